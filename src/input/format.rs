//! [`Format`]: the input formats this crate knows, by name.

use core::fmt;

/// An input format this crate knows about.
///
/// # Example
/// ```
/// use beaconstat::{Format, read::detect};
/// assert_eq!(detect(b"#separator \\x09\n#fields\tts"), Some(Format::ZeekTsv));
/// assert_eq!(detect(br#"{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1"}"#), Some(Format::ZeekJson));
/// assert_eq!(detect(br#"{"EventID":3,"Image":"C:\\x.exe"}"#), Some(Format::WindowsEventJson));
/// assert_eq!(detect(b"timestamp,src_ip,dst_ip\n1,a,b\n"), Some(Format::Csv));
/// assert_eq!(detect(b"ElfFile\0rest of an EVTX header"), Some(Format::Evtx));
/// assert_eq!(detect(b"PAR1\x15\x04rest of a Parquet file"), Some(Format::Parquet));
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
    /// Windows events as JSON lines (Sysmon, Security log; `EventID` keys).
    WindowsEventJson,
    /// Native Windows `.evtx` files (read with the `evtx` feature).
    Evtx,
    /// A `.zip` archive (how public Windows datasets ship). A file is read through its members
    /// (stored or deflated, one after the other); an archive inside a stream is refused.
    Zip,
    /// Apache Parquet files (read with the `arrow` feature; columns found by their common
    /// names, as in CSV).
    Parquet,
}

impl Format {
    /// A short name (`zeek-tsv`, `zeek-json`, `csv`, `windows-event-json`, `evtx`, `zip`,
    /// `parquet`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::ZeekTsv => "zeek-tsv",
            Format::ZeekJson => "zeek-json",
            Format::Csv => "csv",
            Format::WindowsEventJson => "windows-event-json",
            Format::Evtx => "evtx",
            Format::Zip => "zip",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
