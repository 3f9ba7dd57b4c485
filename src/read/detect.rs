//! Format detection from a file's first bytes, and what a log holds (its Zeek `#path`), so
//! [`open`](crate::open) and [`Inputs`](crate::read::Inputs) pick the right reader.

use crate::input::{Format, is_gzip_header};
use std::io::Read;

/// EVTX's file magic.
pub(crate) const EVTX_MAGIC: &[u8] = b"ElfFile\0";
/// Parquet's file magic (a file starts and ends with it).
pub(crate) const PARQUET_MAGIC: &[u8] = b"PAR1";
/// A zip archive's local file header (and the empty archive's end record).
const ZIP_MAGIC: [&[u8]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];
/// How many lines detection looks at for one that decides (bad or foreign first lines are
/// looked past).
const LINES_LOOKED_AT: usize = 32;

/// Guesses the format from a file's first bytes (64 KiB is plenty). Gzip input is
/// decompressed as far as `prefix` allows. `None` if nothing matches.
///
/// Binary magic first (EVTX's `ElfFile`, Parquet's `PAR1`, zip's `PK`); then, on the first lines that decide
/// (blank, malformed or foreign lines are looked past, up to 32 lines): `#separator`,
/// `#fields` or `#path` → Zeek TSV; a JSON object with `EventID`/`winlog` keys → Windows event
/// JSON; one with `id.orig_h` (or a nested `orig_h`) → Zeek JSON; printable text with `,`,
/// `;`, tab or `|` and a letter → CSV.
///
/// # Example
/// ```
/// use beaconstat::{Format, read::detect};
/// use std::io::Write;
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
/// gz.write_all(b"#separator \\x09\n#fields\tts\n").unwrap();
/// let bytes = gz.finish().unwrap();
/// assert_eq!(detect(&bytes), Some(Format::ZeekTsv));
/// assert_eq!(detect(b"[1, 2]"), None);
/// // A broken first line is looked past.
/// assert_eq!(detect(b"{\"ts\":1,\"id.orig_h\n{\"ts\":2,\"id.orig_h\":\"a\"}\n"), Some(Format::ZeekJson));
/// ```
pub fn detect(prefix: &[u8]) -> Option<Format> {
    if is_gzip_header(prefix) {
        return detect_text(&gunzip_prefix(prefix, 64 * 1024));
    }
    detect_text(prefix)
}

/// As much of a gzip stream's start as decodes, up to `limit` bytes (a truncated stream
/// ends in an error: what was decoded before it is kept).
fn gunzip_prefix(prefix: &[u8], limit: usize) -> Vec<u8> {
    let mut dec = flate2::read::MultiGzDecoder::new(prefix);
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    while out.len() < limit {
        match dec.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
    out
}

/// What one line says about the format.
fn line_format(line: &[u8]) -> Option<Format> {
    let has = |needle: &[u8]| memchr::memmem::find(line, needle).is_some();
    if line.starts_with(b"#separator") || line.starts_with(b"#fields") || line.starts_with(b"#path") {
        return Some(Format::ZeekTsv);
    }
    if line.starts_with(b"{") {
        if has(b"\"EventID\"") || has(b"\"EventId\"") || has(b"\"event_id\"") || has(b"\"winlog\"") {
            return Some(Format::WindowsEventJson);
        }
        if has(b"\"id.orig_h\"") || has(b"\"orig_h\"") || is_dhcp_json(line) {
            return Some(Format::ZeekJson);
        }
        return None;
    }
    // CSV: a header line of printable text with a delimiter and at least one letter.
    let printable = line
        .iter()
        .all(|&c| c == b'\t' || c == b'\r' || (0x20..0x7f).contains(&c) || c >= 0x80);
    let delim = line.iter().any(|&c| matches!(c, b',' | b';' | b'\t' | b'|'));
    if printable && delim && line.iter().any(u8::is_ascii_alphabetic) {
        return Some(Format::Csv);
    }
    None
}

/// A Zeek `dhcp.log` JSON line: its modern layout names no `id.orig_h`.
fn is_dhcp_json(line: &[u8]) -> bool {
    let has = |needle: &[u8]| memchr::memmem::find(line, needle).is_some();
    has(b"\"ts\"") && (has(b"\"assigned_addr\"") || has(b"\"assigned_ip\"") || has(b"\"msg_types\""))
}

/// Detection on decompressed text.
pub(crate) fn detect_text(b: &[u8]) -> Option<Format> {
    if b.starts_with(EVTX_MAGIC) {
        return Some(Format::Evtx);
    }
    if b.starts_with(PARQUET_MAGIC) {
        return Some(Format::Parquet);
    }
    if ZIP_MAGIC.iter().any(|m| b.starts_with(m)) {
        return Some(Format::Zip);
    }
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let mut json_seen = false;
    for line in b
        .split(|&c| c == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .take(LINES_LOOKED_AT)
    {
        let line = line.trim_ascii_start();
        match line_format(line) {
            // CSV is only ever the first line (a header); JSON logs are looked into further.
            Some(Format::Csv) if json_seen => continue,
            Some(f) => return Some(f),
            None if line.starts_with(b"{") => json_seen = true,
            None if line.starts_with(b"#") => {}
            // A first line that is neither JSON nor a header: not a log this crate reads.
            None if !json_seen => return None,
            None => {}
        }
    }
    None
}

/// What a file's first bytes say about which log it is: the Zeek `#path` (or JSON `_path`, or
/// the kind the keys point to) and the `#open` stamp.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Sniff {
    pub(crate) format: Option<Format>,
    /// `#path` / `_path`, or for Zeek JSON without one, the log its keys point to.
    pub(crate) zeek_path: Option<String>,
    /// `#open` (Zeek TSV): with `#path`, names one log file whatever its file name.
    pub(crate) zeek_open: Option<String>,
    /// The input is empty (or blank).
    pub(crate) empty: bool,
}

/// Sniffs decompressed text (a file's first 64 KiB).
pub(crate) fn sniff_text(b: &[u8]) -> Sniff {
    let format = detect_text(b);
    let mut s = Sniff {
        format,
        empty: b.trim_ascii().is_empty(),
        ..Sniff::default()
    };
    let directive = |line: &[u8], key: &[u8]| -> Option<String> {
        let rest = line.strip_prefix(key)?;
        let v = rest.strip_prefix(b"\t").or_else(|| rest.strip_prefix(b" "))?;
        Some(String::from_utf8_lossy(v.trim_ascii()).into_owned())
    };
    match format {
        Some(Format::ZeekTsv) => {
            for line in b.split(|&c| c == b'\n').take_while(|l| l.first() == Some(&b'#')) {
                if let Some(v) = directive(line, b"#path") {
                    s.zeek_path.get_or_insert(v);
                } else if let Some(v) = directive(line, b"#open") {
                    s.zeek_open.get_or_insert(v);
                }
            }
        }
        Some(Format::ZeekJson) => {
            let line = b
                .split(|&c| c == b'\n')
                .find(|l| line_format(l.trim_ascii_start()) == Some(Format::ZeekJson))
                .unwrap_or_default();
            s.zeek_path = json_path(line).or_else(|| json_kind(line).map(str::to_owned));
        }
        _ => {}
    }
    s
}

/// A Zeek JSON line's `"_path"` value (written by `LogAscii::use_json` with `_path` logging).
fn json_path(line: &[u8]) -> Option<String> {
    let at = memchr::memmem::find(line, b"\"_path\"")?;
    let rest = line
        .get(at + 7..)?
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = memchr::memchr(b'"', rest)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// The log a Zeek JSON line's keys point to, as the name-log reader decides it.
fn json_kind(line: &[u8]) -> Option<&'static str> {
    let has = |k: &[u8]| memchr::memmem::find(line, k).is_some();
    if is_dhcp_json(line) {
        Some("dhcp")
    } else if has(b"\"query\"") {
        Some("dns")
    } else if has(b"\"server_name\"") || has(b"\"cipher\"") {
        Some("ssl")
    } else if has(b"\"method\"") || has(b"\"uri\"") {
        Some("http")
    } else if has(b"\"conn_state\"") || has(b"\"history\"") || has(b"\"orig_bytes\"") {
        Some("conn")
    } else {
        None
    }
}

/// Sniffs raw bytes (gzip decompressed as far as they allow).
#[cfg(test)]
pub(crate) fn sniff(prefix: &[u8]) -> Sniff {
    if is_gzip_header(prefix) {
        return sniff_text(&gunzip_prefix(prefix, 64 * 1024));
    }
    sniff_text(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_looks_past_bad_and_foreign_lines() {
        let bad_then_conn = b"{\"oops\n{\"ts\":1,\"id.orig_h\":\"a\",\"id.resp_h\":\"b\"}\n";
        assert_eq!(detect(bad_then_conn), Some(Format::ZeekJson));
        let other_then_win = b"{\"msg\":\"hello\"}\n{\"EventID\":1}\n";
        assert_eq!(detect(other_then_win), Some(Format::WindowsEventJson));
        // A first record cut off by the prefix still decides on the keys seen.
        let mut huge = b"{\"ts\":1,\"id.orig_h\":\"a\",\"history\":\"".to_vec();
        huge.extend(std::iter::repeat_n(b'x', 100_000));
        assert_eq!(detect(&huge[..65536]), Some(Format::ZeekJson));
        assert_eq!(detect(b"plain words\n"), None);
        assert_eq!(detect(b"PK\x03\x04zip"), Some(Format::Zip));
    }

    #[test]
    fn sniff_reads_path_open_and_json_kinds() {
        let s = sniff(b"#separator \\x09\n#path\tconn-summary\n#open\t2024-01-01-00-00-00\n#fields\tts\n");
        assert_eq!(s.zeek_path.as_deref(), Some("conn-summary"));
        assert_eq!(s.zeek_open.as_deref(), Some("2024-01-01-00-00-00"));
        let s = sniff(br#"{"_path":"dns","ts":1,"id.orig_h":"a","query":"x"}"#);
        assert_eq!(s.zeek_path.as_deref(), Some("dns"));
        let s = sniff(br#"{"ts":1,"id.orig_h":"a","server_name":"x"}"#);
        assert_eq!(s.zeek_path.as_deref(), Some("ssl"));
        let s = sniff(br#"{"ts":1,"uids":["C1"],"mac":"m","assigned_addr":"10.0.0.2","msg_types":["ACK"]}"#);
        assert_eq!(
            (s.format, s.zeek_path.as_deref()),
            (Some(Format::ZeekJson), Some("dhcp"))
        );
        assert!(sniff(b"  \n").empty);
    }
}
