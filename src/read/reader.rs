//! [`Reader`]: one reader over every input the crate knows (Zeek TSV and JSON, CSV, Windows
//! event JSON, native EVTX, Parquet; plain or gzip; one file, many files, or directories walked
//! recursively), and [`Inputs`]: which files under the given paths hold which log.
//!
//! ```text
//!   paths ──Inputs::scan──▶ files, each sniffed (format, #path, #open)
//!            │ connection logs                 │ name logs (dns/ssl/http), passed-over files
//!            ▼
//!   Reader ──▶ one source at a time: ZeekReader | ZeekJsonReader | CsvReader
//!                                    | WinEventReader (Sysmon 3) | EvtxReader (Sysmon 3)
//!                                    | ParquetReader
//!            ──▶ ConnEvent<'reader> (Copy, borrowed), ReadStats per file and merged
//! ```
//!
//! A file that fails midway (a truncated or corrupt gzip stream, an EVTX file cut short, a
//! read error) keeps what was read: the rest is counted as skipped with
//! [`SkipReason::Truncated`] and the next file is read. In strict mode it is an error instead.

use super::csv::{CsvReader, CsvReaderBuilder};
use super::detect::{Sniff, sniff_text};
use super::json::{ZeekJsonReader, ZeekJsonReaderBuilder};
#[cfg(feature = "arrow")]
use super::parquet::{ParquetReader, ParquetReaderBuilder};
use super::zeek::{ZeekReader, ZeekReaderBuilder};
use super::zeek_names::LogKind;
use super::zip::{ZipMembers, is_zip};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::event::ConnEvent;
use crate::input::{Format, Lines, ReadOptions, ReadStats, SkipReason};
#[cfg(feature = "evtx")]
use crate::winevent::EvtxReader;
use crate::winevent::{WinEventReader, WinRecord, sysmon_conn_event};
use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The byte stream under a source: a file (counting the bytes it hands out, for progress) or a
/// caller's reader.
pub(super) type In = Box<dyn Read + Send>;

/// How deep a directory walk goes (a guard against symlink loops and pathological trees).
const MAX_DEPTH: usize = 32;
/// How much of a file is looked at to recognise it.
const SNIFF_BYTES: usize = 64 * 1024;
/// How much is looked at when the first JSON record is longer than [`SNIFF_BYTES`].
const LONG_FIRST_RECORD: usize = 4 * 1024 * 1024;

/// A file counting the bytes read from it into a shared counter.
pub(super) struct Counted<F = File> {
    pub(super) file: F,
    pub(super) bytes: Arc<AtomicU64>,
}

impl<F: Read> Read for Counted<F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What a file found under the inputs holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogContent {
    /// Connections: Zeek `conn`, CSV flows, Windows events (Sysmon 3 network connections).
    Connections,
    /// A Zeek name log (`dns`, `ssl`, `http`) for [`NameLogReader`](crate::read::NameLogReader).
    Names(LogKind),
    /// A Zeek `dhcp.log` (address leases) for [`DhcpLogReader`](crate::read::DhcpLogReader).
    Dhcp,
    /// Another Zeek log (`#path` `stats`, `capture_loss`, `conn-summary`, …): not read.
    Other(String),
}

/// One recognised log file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its format (`None` for an empty file).
    pub format: Option<Format>,
    /// Which log it is.
    pub content: LogContent,
}

/// A file under the inputs that is not read, and why (not a log, another Zeek log, a copy of
/// a log already read, an archive to unpack, unreadable).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PassedOver {
    /// The file.
    pub path: PathBuf,
    /// Why it is not read.
    pub reason: String,
}

/// The files under some paths and what each holds: directories are walked recursively (in
/// name order, so rotated logs come as one stream), each file is recognised by its content —
/// Zeek logs by their `#path` header (so `conn-summary`, `capture_loss` and `stats` logs of a
/// zeekctl archive are told apart from `conn`), Parquet by its magic bytes (hidden and
/// `_`-prefixed files, a data engine's `_SUCCESS` and `.crc` markers, are passed over), and one
/// log found twice (the same `#path` and
/// `#open`, e.g. `conn.log` and its labelled copy) is read once.
///
/// A path named explicitly must exist and be a log the crate reads; files found in a directory
/// that are not are [passed over](Inputs::passed_over).
///
/// # Example
/// ```
/// # fn main() -> beaconstat::Result<()> {
/// use beaconstat::read::Inputs;
/// let dir = std::env::temp_dir().join(format!("beaconstat-inputs-doc-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("2024-01-01")).map_err(|e| beaconstat::Error::io(None, e))?;
/// let tsv = |path: &str| format!("#separator \\x09\n#path\t{path}\n#fields\tts\tid.orig_h\tid.resp_h\n1.0\ta\tb\n");
/// for (name, path) in [("conn.log", "conn"), ("2024-01-01/conn.00.log", "conn"), ("dns.log", "dns"), ("dhcp.log", "dhcp"), ("stats.log", "stats")] {
///     std::fs::write(dir.join(name), tsv(path)).map_err(|e| beaconstat::Error::io(None, e))?;
/// }
/// let inputs = Inputs::scan(&[&dir])?;
/// assert_eq!(inputs.connection_logs().count(), 2);
/// assert_eq!(inputs.name_logs().count(), 1);
/// assert_eq!(inputs.dhcp_logs().count(), 1);
/// assert!(inputs.passed_over()[0].reason.contains("stats"));
/// let mut r = beaconstat::ReadOptions::new().open_inputs(&inputs);
/// let mut n = 0;
/// r.for_each(|_| n += 1)?;
/// assert_eq!(n, 2);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    logs: Vec<LogFile>,
    passed_over: Vec<PassedOver>,
}

/// Peeks at a stream's first bytes and recognises them. A JSON first record too long to
/// decide on from 64 KiB is looked at whole (up to [`LONG_FIRST_RECORD`]).
pub(super) fn peek_sniff<R: Read>(lines: &mut Lines<R>) -> std::io::Result<(&[u8], Sniff)> {
    let head = lines.peek(SNIFF_BYTES)?;
    let s = sniff_text(head);
    let open_json = s.format.is_none() && head.trim_ascii_start().starts_with(b"{") && head.len() >= SNIFF_BYTES;
    if !open_json || memchr::memchr(b'\n', head.trim_ascii_start()).is_some() {
        let n = head.len();
        return Ok((lines.peek(n)?, s));
    }
    let head = lines.peek(LONG_FIRST_RECORD)?;
    let s = sniff_text(head);
    Ok((head, s))
}

/// Looks at a file's first bytes (gzip decompressed). For CSV, also whether its header names
/// the columns a connection needs.
fn sniff_file(path: &Path) -> Result<(Sniff, bool)> {
    let mut f = File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut f, &mut magic).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    // A zip archive is recognised by what its members hold.
    let input: In = if is_zip(&magic[..n]) {
        Box::new(ZipMembers::open(path)?)
    } else {
        Box::new(File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?)
    };
    let mut lines = ReadOptions::new().lines(input, Some(path))?;
    let (head, s) = peek_sniff(&mut lines).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    let csv_ok = s.format == Some(Format::Csv) && CsvReaderBuilder::new().from_reader(head).is_ok();
    Ok((s, csv_ok))
}

/// The file name starts with `prefix` (Zeek's naming: `conn.log`, `conn.2024-….log.gz`).
fn named(path: &Path, prefix: &str) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(prefix))
}

/// The message for an archive that is not a file (a stream, or inside another archive).
fn zip_message(path: &Path) -> String {
    format!(
        "{}: a zip archive inside a stream or another archive; give the archive's path, or unpack it (e.g. `unzip ARCHIVE -d DIR`)",
        path.display()
    )
}

/// What a sniffed file holds.
fn content_of(path: &Path, s: &Sniff) -> LogContent {
    match (s.format, s.zeek_path.as_deref()) {
        (Some(Format::ZeekTsv | Format::ZeekJson), Some(p)) => match LogKind::from_path(p) {
            Some(kind) => LogContent::Names(kind),
            None if p == "conn" => LogContent::Connections,
            None if p == "dhcp" => LogContent::Dhcp,
            None => LogContent::Other(p.to_owned()),
        },
        // No `#path`: the file name says.
        (Some(Format::ZeekTsv | Format::ZeekJson) | None, None) => {
            if named(path, "conn") {
                LogContent::Connections
            } else if let Some(kind) = ["dns", "ssl", "http"]
                .iter()
                .find(|k| named(path, k))
                .and_then(|k| LogKind::from_path(k))
            {
                LogContent::Names(kind)
            } else if named(path, "dhcp") {
                LogContent::Dhcp
            } else if s.format.is_some() {
                LogContent::Other("a Zeek log without #path".to_owned())
            } else {
                LogContent::Connections
            }
        }
        _ => LogContent::Connections,
    }
}

impl Inputs {
    /// Walks `paths` (files and directories) and recognises every file.
    ///
    /// # Errors
    /// A path given that does not exist or cannot be read ([`ErrorKind::Io`] naming it), and
    /// a file given by name that is not a log this crate reads or is a zip archive
    /// ([`ErrorKind::Format`], saying how to unpack it).
    pub fn scan<P: AsRef<Path>>(paths: &[P]) -> Result<Inputs> {
        let mut inputs = Inputs::default();
        let mut seen = HashSet::new();
        let mut copies = HashSet::new();
        for p in paths {
            let p = p.as_ref();
            let meta = std::fs::metadata(p).map_err(|e| Error::io(Some(p.to_path_buf()), e))?;
            if meta.is_dir() {
                let mut files = Vec::new();
                walk(p, 0, &mut files, &mut inputs.passed_over);
                for f in files {
                    inputs.add(f, false, &mut seen, &mut copies)?;
                }
            } else {
                inputs.add(p.to_path_buf(), true, &mut seen, &mut copies)?;
            }
        }
        Ok(inputs)
    }

    fn add(
        &mut self,
        path: PathBuf,
        explicit: bool,
        seen: &mut HashSet<PathBuf>,
        copies: &mut HashSet<(String, String)>,
    ) -> Result<()> {
        let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.insert(canon) {
            return Ok(());
        }
        let pass = |this: &mut Inputs, reason: String| {
            this.passed_over.push(PassedOver {
                path: path.clone(),
                reason,
            })
        };
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(['.', '_']));
        if hidden && !explicit {
            // Spark, Hive and Hadoop write `_SUCCESS`, `_committed_…` and `.….crc` beside data.
            pass(
                self,
                "hidden or `_`-prefixed name: a data engine's metadata, not a log".to_owned(),
            );
            return Ok(());
        }
        let (s, csv_ok) = match sniff_file(&path) {
            Ok(s) => s,
            Err(e) if explicit => return Err(e),
            Err(e) => {
                pass(self, format!("unreadable: {e}"));
                return Ok(());
            }
        };
        match s.format {
            Some(Format::Zip) if explicit => return Err(Error::format(zip_message(&path))),
            Some(Format::Zip) => {
                pass(self, zip_message(&path));
                return Ok(());
            }
            Some(Format::Evtx) if is_zip_file(&path) => {
                let why = format!("{}: EVTX inside a zip archive: unpack it first", path.display());
                if explicit {
                    return Err(Error::format(why));
                }
                pass(self, why);
                return Ok(());
            }
            None if !s.empty && explicit => {
                return Err(Error::format(format!(
                    "{}: not a Zeek, CSV, Windows event JSON, EVTX or Parquet log",
                    path.display()
                )));
            }
            None if !s.empty => {
                pass(self, "not a log".to_owned());
                return Ok(());
            }
            Some(Format::Parquet) if !cfg!(feature = "arrow") => {
                let why = "Parquet; reading it needs the `arrow` cargo feature";
                if explicit {
                    return Err(Error::format(format!("{}: {why}", path.display())));
                }
                pass(self, why.to_owned());
                return Ok(());
            }
            Some(Format::Csv) if !explicit && !csv_ok => {
                pass(
                    self,
                    "text without the columns of a connection log (ts, src, dst)".to_owned(),
                );
                return Ok(());
            }
            _ => {}
        }
        if let (Some(p), Some(o)) = (&s.zeek_path, &s.zeek_open)
            && !copies.insert((p.clone(), o.clone()))
        {
            pass(self, format!("a copy of a log already read (#path {p}, #open {o})"));
            return Ok(());
        }
        let mut content = content_of(&path, &s);
        if explicit && matches!(content, LogContent::Other(_)) {
            // A file named explicitly is read whatever Zeek log it is.
            content = LogContent::Connections;
        }
        if let LogContent::Other(what) = &content {
            pass(self, format!("not a connection, name or DHCP log (#path {what})"));
            return Ok(());
        }
        self.logs.push(LogFile {
            path,
            format: s.format,
            content,
        });
        Ok(())
    }

    /// Every recognised log, in reading order.
    pub fn logs(&self) -> &[LogFile] {
        &self.logs
    }

    /// The connection logs, in reading order.
    pub fn connection_logs(&self) -> impl Iterator<Item = &Path> + '_ {
        self.logs
            .iter()
            .filter(|l| l.content == LogContent::Connections)
            .map(|l| l.path.as_path())
    }

    /// The Zeek name logs (`dns`, `ssl`, `http`), in reading order.
    pub fn name_logs(&self) -> impl Iterator<Item = &Path> + '_ {
        self.logs
            .iter()
            .filter(|l| matches!(l.content, LogContent::Names(_)))
            .map(|l| l.path.as_path())
    }

    /// The Zeek `dhcp.log`s, in reading order.
    pub fn dhcp_logs(&self) -> impl Iterator<Item = &Path> + '_ {
        self.logs
            .iter()
            .filter(|l| l.content == LogContent::Dhcp)
            .map(|l| l.path.as_path())
    }

    /// Files found in directories that are not read, and why.
    pub fn passed_over(&self) -> &[PassedOver] {
        &self.passed_over
    }
}

/// Collects the files under `dir`, sorted by name at each level; symlinked directories are not
/// followed.
fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, passed: &mut Vec<PassedOver>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            passed.push(PassedOver {
                path: dir.to_path_buf(),
                reason: format!("unreadable directory: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if depth + 1 < MAX_DEPTH {
                walk(&p, depth + 1, files, passed);
            }
        } else if meta.is_file() || (meta.file_type().is_symlink() && p.is_file()) {
            files.push(p);
        }
    }
}

/// One input being read.
pub(super) enum Source {
    Tsv(Box<ZeekReader<In>>),
    Json(Box<ZeekJsonReader<In>>),
    Csv(Box<CsvReader<In>>),
    /// Windows event JSON: connections are its Sysmon 3 events.
    Win(Box<WinEventReader<In>>, Box<WinRecord>, u64),
    #[cfg(feature = "evtx")]
    Evtx(Box<EvtxReader>, Box<WinRecord>, u64),
    /// A Parquet file (columns found by their common names).
    #[cfg(feature = "arrow")]
    Parquet(Box<ParquetReader>),
    /// An empty input.
    Empty(ReadStats),
}

impl Source {
    fn format(&self) -> Option<Format> {
        Some(match self {
            Source::Tsv(_) => Format::ZeekTsv,
            Source::Json(_) => Format::ZeekJson,
            Source::Csv(_) => Format::Csv,
            Source::Win(..) => Format::WindowsEventJson,
            #[cfg(feature = "evtx")]
            Source::Evtx(..) => Format::Evtx,
            #[cfg(feature = "arrow")]
            Source::Parquet(_) => Format::Parquet,
            Source::Empty(_) => return None,
        })
    }

    /// The counts, as connections: for Windows events, `events` are the network connections
    /// and the other events are `ignored`.
    pub(super) fn stats(&self) -> ReadStats {
        let win = as_connections;
        let mut s = match self {
            Source::Tsv(r) => r.stats().clone(),
            Source::Json(r) => r.stats().clone(),
            Source::Csv(r) => r.stats().clone(),
            Source::Win(r, _, conns) => win(r.stats(), *conns),
            #[cfg(feature = "evtx")]
            Source::Evtx(r, _, conns) => win(r.stats(), *conns),
            #[cfg(feature = "arrow")]
            Source::Parquet(r) => {
                let mut s = r.stats().clone();
                s.path = s.path.or_else(|| r.files().first().cloned());
                s
            }
            Source::Empty(s) => s.clone(),
        };
        s.format = self.format();
        s
    }

    /// Reads up to the next event; `false` at end of input.
    fn advance(&mut self) -> Result<bool> {
        match self {
            Source::Tsv(r) => r.advance(),
            Source::Json(r) => r.advance(),
            Source::Csv(r) => r.advance(),
            Source::Win(r, rec, conns) => {
                while r.read_record(rec)? {
                    if sysmon_conn_event(rec).is_some() {
                        *conns += 1;
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            #[cfg(feature = "evtx")]
            Source::Evtx(r, rec, conns) => {
                while r.read_record(rec)? {
                    if sysmon_conn_event(rec).is_some() {
                        *conns += 1;
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            #[cfg(feature = "arrow")]
            Source::Parquet(r) => r.step(),
            Source::Empty(_) => Ok(false),
        }
    }

    /// The event [`advance`](Source::advance) stopped at.
    fn current(&self) -> Option<ConnEvent<'_>> {
        match self {
            Source::Tsv(r) => r.current(),
            Source::Json(r) => r.current(),
            Source::Csv(r) => r.current(),
            Source::Win(_, rec, _) => sysmon_conn_event(rec),
            #[cfg(feature = "evtx")]
            Source::Evtx(_, rec, _) => sysmon_conn_event(rec),
            #[cfg(feature = "arrow")]
            Source::Parquet(r) => r.current(),
            Source::Empty(_) => None,
        }
    }

    /// Where the record of the event [`advance`](Source::advance) stopped at starts; `None`
    /// for inputs without lines (EVTX records carry their record id; Parquet rows).
    fn position(&self) -> Option<Position> {
        match self {
            Source::Tsv(r) => Some(r.record().position()),
            Source::Json(r) => Some(r.record().position()),
            Source::Csv(r) => Some(r.record().position()),
            Source::Win(_, rec, _) => Some(rec.position()),
            _ => None,
        }
    }

    /// Every remaining event, by each reader's fastest path.
    pub(super) fn for_each<F: FnMut(ConnEvent<'_>)>(&mut self, f: &mut F) -> Result<()> {
        match self {
            Source::Tsv(r) => r.for_each(f),
            Source::Json(r) => r.for_each(f),
            Source::Csv(r) => r.for_each(f),
            Source::Win(r, rec, conns) => {
                while r.read_record(rec)? {
                    if let Some(ev) = sysmon_conn_event(rec) {
                        *conns += 1;
                        f(ev);
                    }
                }
                Ok(())
            }
            #[cfg(feature = "evtx")]
            Source::Evtx(r, rec, conns) => {
                while r.read_record(rec)? {
                    if let Some(ev) = sysmon_conn_event(rec) {
                        *conns += 1;
                        f(ev);
                    }
                }
                Ok(())
            }
            #[cfg(feature = "arrow")]
            Source::Parquet(r) => r.for_each(&mut *f),
            Source::Empty(_) => Ok(()),
        }
    }

    /// Every remaining Windows record (other sources have none).
    fn for_each_record<F: FnMut(&WinRecord)>(&mut self, f: &mut F) -> Result<()> {
        match self {
            Source::Win(r, rec, _) => {
                while r.read_record(rec)? {
                    f(rec);
                }
                Ok(())
            }
            #[cfg(feature = "evtx")]
            Source::Evtx(r, rec, _) => {
                while r.read_record(rec)? {
                    f(rec);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Lines and header directive lines read so far, for the line-based formats a parallel
    /// read cuts into parts (others: `(0, 0)`).
    pub(super) fn lines_and_directives(&self) -> (u64, u64) {
        match self {
            Source::Tsv(r) => (r.lines_read(), r.directives()),
            Source::Json(r) => (r.lines_read(), 0),
            Source::Win(r, ..) => (r.lines_read(), 0),
            _ => (0, 0),
        }
    }

    /// Counts as the unreadable rest a failure that stopped a lenient read midway.
    pub(super) fn record_failure(&mut self, e: &Error) {
        let detail = format!("reading stopped: {e}");
        let at = Position::default();
        match self {
            Source::Tsv(r) => r.stats_mut().skip_detail(1, at, SkipReason::Truncated, detail),
            Source::Json(r) => r.stats_mut().skip_detail(1, at, SkipReason::Truncated, detail),
            Source::Csv(r) => r.stats_mut().skip_detail(1, at, SkipReason::Truncated, detail),
            Source::Win(r, ..) => r.stats_mut().skip_detail(1, at, SkipReason::Truncated, detail),
            #[cfg(feature = "evtx")]
            Source::Evtx(r, ..) => r.stats_mut().skip_detail(1, at, SkipReason::Truncated, detail),
            #[cfg(feature = "arrow")]
            Source::Parquet(r) => r.stats_mut().skip_detail(1, at, SkipReason::Truncated, detail),
            Source::Empty(s) => s.skip_detail(1, at, SkipReason::Truncated, detail),
        }
    }
}

/// A Windows reader's counts as the counts of a connection reader: of its `events` (records),
/// the `conns` network connections are `events`, the rest `ignored`.
pub(super) fn as_connections(s: &ReadStats, conns: u64) -> ReadStats {
    let mut s = s.clone();
    s.ignored += s.events.saturating_sub(conns);
    s.events = conns;
    s
}

/// Builds the reader for a stream whose first bytes were peeked into `lines`.
fn source_for(mut lines: Lines<In>, path: Option<&Path>, opts: &ReadOptions) -> Result<Source> {
    let what = path.map_or_else(|| "input".to_owned(), |p| p.display().to_string());
    let (_, sniffed) = peek_sniff(&mut lines).map_err(|e| Error::io(None, e))?;
    let path_buf = path.map(Path::to_path_buf);
    Ok(match sniffed.format {
        Some(Format::ZeekTsv) => Source::Tsv(Box::new(
            ZeekReaderBuilder::new().options(opts).build_input(lines, path_buf),
        )),
        Some(Format::ZeekJson) => Source::Json(Box::new(
            ZeekJsonReaderBuilder::new().options(opts).build_input(lines, path_buf),
        )),
        Some(Format::Csv) => Source::Csv(Box::new(
            CsvReaderBuilder::new()
                .options(opts)
                .build_input(lines, path_buf)
                .map_err(|e| match e.into_kind() {
                    ErrorKind::Config { reason, .. } => Error::format(format!("{what}: CSV: {reason}")),
                    k => Error::from(k),
                })?,
        )),
        Some(Format::WindowsEventJson) => Source::Win(
            Box::new(WinEventReader::from_lines(lines, path_buf, opts)),
            Box::default(),
            0,
        ),
        Some(Format::Zip) => return Err(Error::format(zip_message(path.unwrap_or(Path::new("input"))))),
        Some(Format::Evtx) => {
            return Err(Error::format(format!(
                "{what}: EVTX is read from a file path (with the `evtx` cargo feature)"
            )));
        }
        Some(Format::Parquet) => {
            return Err(Error::format(format!(
                "{what}: Parquet is read from a file path (with the `arrow` cargo feature)"
            )));
        }
        None if sniffed.empty => Source::Empty(ReadStats::for_path(path)),
        None => {
            return Err(Error::format(format!(
                "{what}: not a Zeek, CSV, Windows event JSON, EVTX or Parquet log"
            )));
        }
    })
}

/// Opens the reader for one file.
fn open_source(path: &Path, opts: &ReadOptions, bytes: &Arc<AtomicU64>) -> Result<Source> {
    let mut file = File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    let mut magic = [0u8; 8];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    if is_zip(&magic[..n]) {
        // The members, decompressed, as one stream (progress counts the archive at once).
        bytes.fetch_add(file.metadata().map_or(0, |m| m.len()), Ordering::Relaxed);
        let input: In = Box::new(ZipMembers::open(path)?);
        let mut lines = opts.lines(input, Some(path))?;
        let head = lines.peek(8).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        if head.starts_with(super::detect::EVTX_MAGIC) {
            return Err(Error::format(format!(
                "{}: EVTX inside a zip archive: unpack it first",
                path.display()
            )));
        }
        return source_for(lines, Some(path), opts).map_err(|e| with_path(e, path));
    }
    if magic[..n].starts_with(super::detect::EVTX_MAGIC) {
        #[cfg(feature = "evtx")]
        {
            bytes.fetch_add(file.metadata().map_or(0, |m| m.len()), Ordering::Relaxed);
            return Ok(Source::Evtx(
                Box::new(EvtxReader::from_path_with(path, opts)?),
                Box::default(),
                0,
            ));
        }
        #[cfg(not(feature = "evtx"))]
        return Err(Error::format(format!(
            "{}: reading .evtx needs the `evtx` cargo feature",
            path.display()
        )));
    }
    if magic[..n].starts_with(super::detect::PARQUET_MAGIC) {
        #[cfg(feature = "arrow")]
        {
            bytes.fetch_add(file.metadata().map_or(0, |m| m.len()), Ordering::Relaxed);
            let mut b = ParquetReaderBuilder::new();
            b.strict(opts.strict);
            return Ok(Source::Parquet(Box::new(b.open(path)?)));
        }
        #[cfg(not(feature = "arrow"))]
        return Err(Error::format(format!(
            "{}: reading Parquet needs the `arrow` cargo feature",
            path.display()
        )));
    }
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    let input: In = Box::new(Counted {
        file,
        bytes: Arc::clone(bytes),
    });
    let lines = opts.lines(input, Some(path))?;
    source_for(lines, Some(path), opts).map_err(|e| with_path(e, path))
}

/// An I/O error without a path gets `path`.
fn with_path(e: Error, path: &Path) -> Error {
    match e.into_kind() {
        ErrorKind::Io { path: None, source } => Error::io(Some(path.to_path_buf()), source),
        k => Error::from(k),
    }
}

/// Whether the file at `path` starts like a zip archive.
fn is_zip_file(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut magic))
        .is_ok_and(|n| is_zip(&magic[..n]))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One reader over every input the crate knows: Zeek `conn.log` TSV and JSON, CSV flows,
/// Windows event JSON and native EVTX (feature `evtx`; Sysmon event 3 network connections),
/// each plain or gzip, and Parquet files (feature `arrow`; columns found by their common names
/// — for another mapping use `read::ParquetReaderBuilder`); one file, several, or directories
/// walked recursively (see [`Inputs`]).
/// Built by [`open`](crate::open) or [`ReadOptions`]; hands out borrowed [`ConnEvent`]s.
///
/// Files are read one after the other as one stream. A file that fails midway keeps what was
/// read, counts the rest as skipped ([`SkipReason::Truncated`]) and the next file is read;
/// in strict mode the failure is an error. [`files`](Reader::files) has each file's counts;
/// [`stats`](Reader::stats) the total.
///
/// Windows records themselves (for task lineage) are read with
/// [`for_each_record`](Reader::for_each_record).
///
/// # Example
/// ```
/// use beaconstat::{Format, ReadOptions};
/// let data = "ts,src,dst,dst_port\n1.5,10.0.0.1,10.0.0.2,443\n";
/// let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(data))?;
/// assert_eq!(r.format(), Some(Format::Csv));
/// assert_eq!(r.next_event()?.unwrap().dst_port, Some(443));
/// assert!(r.next_event()?.is_none());
/// assert_eq!(r.stats().events, 1);
/// # Ok::<(), beaconstat::Error>(())
/// ```
pub struct Reader {
    opts: ReadOptions,
    pending: VecDeque<PathBuf>,
    current: Option<Source>,
    // Counts of the files finished, in order.
    done: Vec<ReadStats>,
    pub(super) bytes: Arc<AtomicU64>,
    // The format of the source read last.
    format: Option<Format>,
}

impl core::fmt::Debug for Reader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reader")
            .field("pending", &self.pending)
            .field("format", &self.format)
            .field("done", &self.done.len())
            .finish_non_exhaustive()
    }
}

impl ReadOptions {
    /// A [`Reader`] over a file or a directory (walked recursively for connection logs; see
    /// [`Inputs`]). A file named here is read whatever Zeek log it is.
    ///
    /// # Errors
    /// As [`Inputs::scan`]; for one file, also an unreadable CSV header.
    pub fn open<P: AsRef<Path>>(&self, path: P) -> Result<Reader> {
        let path = path.as_ref();
        let inputs = Inputs::scan(&[path])?;
        let mut r = self.open_inputs(&inputs);
        if !path.is_dir() {
            // One file: fail now on what would fail it (an unusable CSV header, a bad EVTX).
            r.pending.clear();
            let src = open_source(path, self, &r.bytes)?;
            r.format = src.format();
            r.current = Some(src);
        }
        Ok(r)
    }

    /// A [`Reader`] over the connection logs of `inputs`.
    pub fn open_inputs(&self, inputs: &Inputs) -> Reader {
        self.open_files(inputs.connection_logs())
    }

    /// A [`Reader`] over these files, in this order (each one's format detected).
    pub fn open_files<P: AsRef<Path>>(&self, files: impl IntoIterator<Item = P>) -> Reader {
        Reader {
            opts: self.clone(),
            pending: files.into_iter().map(|p| p.as_ref().to_path_buf()).collect(),
            current: None,
            done: Vec::new(),
            bytes: Arc::new(AtomicU64::new(0)),
            format: None,
        }
    }

    /// A [`Reader`] over one stream (plain or gzip; format detected from its first bytes).
    ///
    /// # Errors
    /// I/O errors; a [`Format`](ErrorKind::Format) error for input that is not a log this
    /// crate reads (EVTX is read from a path only); CSV column errors.
    pub fn from_reader<R: Read + Send + 'static>(&self, rdr: R) -> Result<Reader> {
        let lines = self.lines(Box::new(rdr) as In, None)?;
        let src = source_for(lines, None, self)?;
        let mut r = self.open_files(core::iter::empty::<PathBuf>());
        r.format = src.format();
        r.current = Some(src);
        Ok(r)
    }
}

impl Reader {
    /// Finishes the current source (if any) and opens the next file; `false` when none is
    /// left. A file that cannot be opened is counted (lenient) or an error (strict).
    fn open_next(&mut self) -> Result<bool> {
        if let Some(src) = self.current.take() {
            self.done.push(src.stats());
        }
        let Some(path) = self.pending.pop_front() else {
            return Ok(false);
        };
        match open_source(&path, &self.opts, &self.bytes) {
            Ok(src) => {
                self.format = src.format();
                self.current = Some(src);
            }
            Err(e) if self.opts.strict => return Err(e),
            Err(e) => {
                let mut s = ReadStats::for_path(Some(&path));
                s.skip_detail(1, Position::default(), SkipReason::Truncated, format!("not read: {e}"));
                self.current = Some(Source::Empty(s));
            }
        }
        Ok(true)
    }

    /// Handles a failure of the current source: an error when strict, else counted.
    fn failed(&mut self, e: Error) -> Result<()> {
        if self.opts.strict {
            return Err(e);
        }
        if let Some(src) = self.current.as_mut() {
            src.record_failure(&e);
        }
        Ok(())
    }

    /// The next connection event; `None` when every input is read.
    ///
    /// # Errors
    /// In strict mode, the first bad record or failing file; lenient readers count them.
    pub fn next_event(&mut self) -> Result<Option<ConnEvent<'_>>> {
        loop {
            match self.current.as_mut().map(Source::advance) {
                Some(Ok(true)) => break,
                Some(Ok(false)) | None => {
                    if !self.open_next()? {
                        return Ok(None);
                    }
                }
                Some(Err(e)) => {
                    self.failed(e)?;
                    if !self.open_next()? {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(self.current.as_ref().and_then(Source::current))
    }

    /// Like [`next_event`](Reader::next_event), with where the event's record starts in its
    /// file (line and byte offset), so a finding can point back at the raw log; `None` for
    /// inputs without lines (EVTX, whose records carry their record id, and Parquet).
    ///
    /// # Errors
    /// As [`next_event`](Reader::next_event).
    ///
    /// # Example
    /// ```
    /// use beaconstat::ReadOptions;
    /// let data = "ts,src,dst\n1.5,10.0.0.1,10.0.0.2\nbad\n2.5,10.0.0.1,10.0.0.3\n";
    /// let mut r = ReadOptions::new().from_reader(std::io::Cursor::new(data))?;
    /// let (ev, at) = r.next_event_at()?.unwrap();
    /// assert_eq!((ev.dst, at.map(|p| p.line)), ("10.0.0.2", Some(2)));
    /// let (ev, at) = r.next_event_at()?.unwrap();
    /// assert_eq!((ev.dst, at.map(|p| p.line)), ("10.0.0.3", Some(4)));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn next_event_at(&mut self) -> Result<Option<(ConnEvent<'_>, Option<Position>)>> {
        if self.next_event()?.is_none() {
            return Ok(None);
        }
        Ok(self
            .current
            .as_ref()
            .and_then(|src| src.current().map(|ev| (ev, src.position()))))
    }

    /// Calls `f` with every connection event of every input (each reader's fastest path).
    ///
    /// # Errors
    /// As [`next_event`](Reader::next_event).
    pub fn for_each<F: FnMut(ConnEvent<'_>)>(&mut self, mut f: F) -> Result<()> {
        loop {
            if let Some(src) = self.current.as_mut()
                && let Err(e) = src.for_each(&mut f)
            {
                self.failed(e)?;
            }
            if !self.open_next()? {
                return Ok(());
            }
        }
    }

    /// Calls `f` with every Windows event record (JSON lines or EVTX) of every input, for
    /// what is more than connections (task lineage). Other inputs are counted but hand out
    /// no records.
    ///
    /// # Errors
    /// As [`next_event`](Reader::next_event).
    pub fn for_each_record<F: FnMut(&WinRecord)>(&mut self, mut f: F) -> Result<()> {
        loop {
            if let Some(src) = self.current.as_mut()
                && let Err(e) = src.for_each_record(&mut f)
            {
                self.failed(e)?;
            }
            if !self.open_next()? {
                return Ok(());
            }
        }
    }

    /// The format of the input read last (`None` before the first or for an empty one).
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Each file's counts, in reading order (the current one included).
    pub fn files(&self) -> Vec<ReadStats> {
        let mut v = self.done.clone();
        v.extend(self.current.as_ref().map(Source::stats));
        v
    }

    /// The counts over every input so far (samples name their files).
    pub fn stats(&self) -> ReadStats {
        let mut total = ReadStats::default();
        for s in &self.done {
            total.merge(s);
        }
        if let Some(src) = &self.current {
            total.merge(&src.stats());
        }
        if self.done.is_empty() && self.pending.is_empty() {
            total.path = self.current.as_ref().and_then(|s| s.stats().path);
            total.format = self.format;
        }
        total
    }

    /// Bytes read from files so far (compressed size for gzip), for progress reports.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// A handle on [`bytes_read`](Reader::bytes_read) that can be read while the reader is
    /// busy (inside [`for_each`](Reader::for_each), or from another thread).
    pub fn progress(&self) -> Progress {
        Progress(Arc::clone(&self.bytes))
    }
}

/// The bytes a [`Reader`] has read so far, readable while it reads.
#[derive(Debug, Clone)]
pub struct Progress(pub(super) Arc<AtomicU64>);

impl Progress {
    /// Bytes read from files so far (compressed size for gzip).
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens a log of any supported format (plain or gzip), or every connection log under a
/// directory, skipping and counting bad records. See [`Reader`] and [`ReadOptions`].
///
/// # Errors
/// As [`ReadOptions::open`].
///
/// # Example
/// ```
/// # fn main() -> beaconstat::Result<()> {
/// let dir = std::env::temp_dir().join(format!("beaconstat-open-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| beaconstat::Error::io(None, e))?;
/// let path = dir.join("conn.log");
/// std::fs::write(&path, "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n1.0\ta\tb\n")
///     .map_err(|e| beaconstat::Error::io(None, e))?;
/// let mut r = beaconstat::open(&path)?;
/// assert_eq!(r.format(), Some(beaconstat::Format::ZeekTsv));
/// assert_eq!(r.next_event()?.map(|e| e.dst), Some("b"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub fn open<P: AsRef<Path>>(path: P) -> Result<Reader> {
    ReadOptions::default().open(path)
}

/// Reads every Windows event of a file, calling `f` on each: `.evtx` through the `evtx` crate
/// (feature `evtx`), JSON lines (plain or gzip) otherwise.
///
/// # Errors
/// I/O errors naming the file; [`ErrorKind::Format`] for `.evtx` without the `evtx` feature
/// and for input that is not Windows events.
pub fn read_windows_events(path: impl AsRef<Path>, f: impl FnMut(&WinRecord)) -> Result<ReadStats> {
    let path = path.as_ref();
    let opts = ReadOptions::default();
    let mut r = opts.open_files(core::iter::empty::<PathBuf>());
    let src = open_source(path, &opts, &r.bytes)?;
    let format = src.format();
    r.current = Some(src);
    match format {
        Some(Format::WindowsEventJson | Format::Evtx) | None => {}
        Some(other) => {
            return Err(Error::format(format!(
                "{}: {other}, not Windows events",
                path.display()
            )));
        }
    }
    r.for_each_record(f)?;
    // Records, not connections: undo the connection view.
    Ok(r.done.pop().unwrap_or_default().as_records())
}
