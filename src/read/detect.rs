//! Format detection from a file's first bytes, and [`open`]: one call from a path to the
//! right reader.

use super::Common;
use super::input::GZIP_MAGIC;
use super::{CsvReader, ZeekJsonReader, ZeekReader};
use super::{CsvReaderBuilder, ReadStats, ZeekJsonReaderBuilder, ZeekReaderBuilder};
use crate::error::{Error, Result};
use crate::event::ConnEvent;
use core::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// An input format this crate knows about.
///
/// # Example
/// ```
/// use beaconstat::{Format, detect};
/// assert_eq!(detect(b"#separator \\x09\n#fields\tts"), Some(Format::ZeekTsv));
/// assert_eq!(detect(br#"{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1"}"#), Some(Format::ZeekJson));
/// assert_eq!(detect(br#"{"EventID":3,"Image":"C:\\x.exe"}"#), Some(Format::WindowsEventJson));
/// assert_eq!(detect(b"timestamp,src_ip,dst_ip\n1,a,b\n"), Some(Format::Csv));
/// assert_eq!(detect(b"\x00\x01binary"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Format {
    /// Zeek's tab-separated logs with `#` headers.
    ZeekTsv,
    /// Zeek JSON logs, one object per line.
    ZeekJson,
    /// CSV with a header row.
    Csv,
    /// Windows events as JSON lines (Sysmon, Security log; `EventID` keys). Detected so a
    /// caller can route it, but not read by this module.
    WindowsEventJson,
}

impl Format {
    /// A short name (`zeek-tsv`, `zeek-json`, `csv`, `windows-event-json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::ZeekTsv => "zeek-tsv",
            Format::ZeekJson => "zeek-json",
            Format::Csv => "csv",
            Format::WindowsEventJson => "windows-event-json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Guesses the format from a file's first bytes (a few KiB is plenty). Gzip input is
/// decompressed as far as `prefix` allows. `None` if nothing matches.
///
/// Rules, on the first line: `#separator`, `#fields` or `#path` → Zeek TSV; a JSON object
/// with `EventID`/`winlog` keys → Windows event JSON; one with `id.orig_h` (or a nested
/// `orig_h`) → Zeek JSON; printable text with `,`, `;` or tab and a letter → CSV.
///
/// # Example
/// ```
/// use beaconstat::{Format, detect};
/// use std::io::Write;
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
/// gz.write_all(b"#separator \\x09\n#fields\tts\n").unwrap();
/// let bytes = gz.finish().unwrap();
/// assert_eq!(detect(&bytes), Some(Format::ZeekTsv));
/// assert_eq!(detect(b"[1, 2]"), None);
/// ```
pub fn detect(prefix: &[u8]) -> Option<Format> {
    if prefix.starts_with(&GZIP_MAGIC) {
        let mut dec = flate2::read::MultiGzDecoder::new(prefix);
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        // A truncated stream ends in an error: keep what was decoded before it.
        while out.len() < 64 * 1024 {
            match dec.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
            }
        }
        return detect_text(&out);
    }
    detect_text(prefix)
}

fn detect_text(b: &[u8]) -> Option<Format> {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let b = b.trim_ascii_start();
    let first = match memchr::memchr(b'\n', b) {
        Some(i) => &b[..i],
        None => b,
    };
    let has = |needle: &[u8]| memchr::memmem::find(first, needle).is_some();
    if first.starts_with(b"#separator") || first.starts_with(b"#fields") || first.starts_with(b"#path") {
        return Some(Format::ZeekTsv);
    }
    if first.starts_with(b"{") {
        if has(b"\"EventID\"") || has(b"\"EventId\"") || has(b"\"event_id\"") || has(b"\"winlog\"") {
            return Some(Format::WindowsEventJson);
        }
        if has(b"\"id.orig_h\"") || has(b"\"orig_h\"") {
            return Some(Format::ZeekJson);
        }
        return None;
    }
    // CSV: a header line of printable text with a delimiter and at least one letter.
    let printable = first
        .iter()
        .all(|&c| c == b'\t' || c == b'\r' || (0x20..0x7f).contains(&c) || c >= 0x80);
    let delim = first.iter().any(|&c| matches!(c, b',' | b';' | b'\t'));
    if printable && delim && first.iter().any(u8::is_ascii_alphabetic) {
        return Some(Format::Csv);
    }
    None
}

/// Any of this module's readers, chosen by [`open`].
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyReader<R: Read = File> {
    /// Zeek TSV.
    ZeekTsv(Box<ZeekReader<R>>),
    /// Zeek JSON.
    ZeekJson(Box<ZeekJsonReader<R>>),
    /// CSV.
    Csv(Box<CsvReader<R>>),
}

impl<R: Read> AnyReader<R> {
    /// Detects the format of `rdr` (plain or gzip) and builds its reader.
    ///
    /// # Errors
    /// I/O errors; a [`Format`](crate::ErrorKind::Format) error for unknown input or
    /// Windows event JSON (read that with the Windows event reader); CSV column errors.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{AnyReader, Format};
    /// let data = "ts,src,dst,dst_port\n1.5,10.0.0.1,10.0.0.2,443\n";
    /// let mut r = AnyReader::from_reader(data.as_bytes(), false)?;
    /// assert_eq!(r.format(), Format::Csv);
    /// assert_eq!(r.next_event()?.unwrap().dst_port, Some(443));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn from_reader(rdr: R, strict: bool) -> Result<AnyReader<R>> {
        Self::build(rdr, strict, None)
    }

    fn build(rdr: R, strict: bool, path: Option<&Path>) -> Result<AnyReader<R>> {
        let io = |e| Error::io(path.map(Path::to_path_buf), e);
        let mut lines = Common::default().lines(rdr, path)?;
        let head = lines.peek(4096).map_err(io)?;
        let what = path.map_or_else(|| "input".to_owned(), |p| p.display().to_string());
        let format =
            detect_text(head).ok_or_else(|| Error::format(format!("{what}: not a Zeek, Zeek JSON or CSV log")))?;
        let path_buf = path.map(Path::to_path_buf);
        Ok(match format {
            Format::ZeekTsv => AnyReader::ZeekTsv(Box::new(
                ZeekReaderBuilder::new().strict(strict).build_input(lines, path_buf),
            )),
            Format::ZeekJson => AnyReader::ZeekJson(Box::new(
                ZeekJsonReaderBuilder::new().strict(strict).build_input(lines, path_buf),
            )),
            Format::Csv => AnyReader::Csv(Box::new(
                CsvReaderBuilder::new().strict(strict).build_input(lines, path_buf)?,
            )),
            Format::WindowsEventJson => {
                return Err(Error::format(format!(
                    "{what}: Windows event JSON (Sysmon/EventID): use the Windows event reader"
                )));
            }
        })
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        match self {
            AnyReader::ZeekTsv(_) => Format::ZeekTsv,
            AnyReader::ZeekJson(_) => Format::ZeekJson,
            AnyReader::Csv(_) => Format::Csv,
        }
    }

    /// The next event; `None` at end of input.
    ///
    /// # Errors
    /// I/O errors; in strict mode, the first bad record.
    pub fn next_event(&mut self) -> Result<Option<ConnEvent<'_>>> {
        match self {
            AnyReader::ZeekTsv(r) => r.next_event(),
            AnyReader::ZeekJson(r) => r.next_event(),
            AnyReader::Csv(r) => r.next_event(),
        }
    }

    /// Calls `f` with every event until the end of input.
    ///
    /// # Errors
    /// As [`next_event`](AnyReader::next_event).
    pub fn for_each<F: FnMut(ConnEvent<'_>)>(&mut self, f: F) -> Result<()> {
        match self {
            AnyReader::ZeekTsv(r) => r.for_each(f),
            AnyReader::ZeekJson(r) => r.for_each(f),
            AnyReader::Csv(r) => r.for_each(f),
        }
    }

    /// What has been read so far.
    pub fn stats(&self) -> &ReadStats {
        match self {
            AnyReader::ZeekTsv(r) => r.stats(),
            AnyReader::ZeekJson(r) => r.stats(),
            AnyReader::Csv(r) => r.stats(),
        }
    }
}

/// Opens a connection log of any supported format (plain or gzip), skipping bad records.
///
/// # Errors
/// As [`AnyReader::from_reader`], with the path named.
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
/// assert_eq!(r.format(), beaconstat::Format::ZeekTsv);
/// assert_eq!(r.next_event()?.map(|e| e.dst), Some("b"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub fn open<P: AsRef<Path>>(path: P) -> Result<AnyReader<File>> {
    open_with(path, false)
}

/// [`open`], choosing strict mode (the first bad record is an error).
///
/// # Errors
/// As [`open`].
///
/// # Example
/// ```
/// # fn main() -> beaconstat::Result<()> {
/// let dir = std::env::temp_dir().join(format!("beaconstat-open-with-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| beaconstat::Error::io(None, e))?;
/// let path = dir.join("flows.csv");
/// std::fs::write(&path, "ts,src,dst\n1,a,b\nbad,a,b\n").map_err(|e| beaconstat::Error::io(None, e))?;
/// let mut r = beaconstat::open_with(&path, true)?;
/// assert!(r.next_event()?.is_some());
/// let err = r.next_event().unwrap_err();
/// assert_eq!(err.position().map(|p| p.line), Some(3));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub fn open_with<P: AsRef<Path>>(path: P, strict: bool) -> Result<AnyReader<File>> {
    let path = path.as_ref();
    let f = File::open(path).map_err(|e| Error::io(Some(path.to_owned()), e))?;
    AnyReader::build(f, strict, Some(path))
}
