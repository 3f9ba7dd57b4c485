//! Readers for network connection logs: Zeek `conn.log` (TSV and JSON) and CSV, yielding
//! borrowed [`ConnEvent`]s.
//!
//! Every reader follows the `csv` crate's shape: a builder, a reader over any [`std::io::Read`]
//! (gzip is detected by its magic bytes and decompressed transparently), a reusable record that
//! keeps a whole line in one buffer plus field offsets, and events that borrow from that
//! record. After warm-up no record allocates.
//!
//! ```text
//!   io::Read ──▶ reader (owns the input buffer) ──read_record──▶ record (line + offsets)
//!                                                                 │ conn_event()
//!                                                                 ▼
//!                                                   ConnEvent<'record> (Copy, borrowed)
//! ```
//!
//! Bad input never panics and is never dropped silently: each data line is either an event or a
//! [`Skipped`] entry counted in [`ReadStats`] (with its line, byte offset, field and reason). In
//! strict mode the first bad line is an [`Error`](crate::Error) instead.
//!
//! # Example: any supported file
//! ```no_run
//! # fn main() -> beaconstat::Result<()> {
//! let mut reader = beaconstat::open("conn.log.gz")?;
//! let mut n = 0;
//! reader.for_each(|ev| n += usize::from(ev.dst_port == Some(443)))?;
//! println!("{n} HTTPS connections; {}", reader.stats());
//! # Ok(()) }
//! ```

mod csv;
mod detect;
pub(crate) mod input;
mod json;
mod num;
pub(crate) mod options;
mod reader;
pub(crate) mod stats;
mod zeek;
mod zeek_names;

pub use self::csv::{CsvReader, CsvReaderBuilder, CsvRecord, TimeFormat};
pub use self::detect::{Format, detect};
pub use self::json::{ZeekJsonReader, ZeekJsonReaderBuilder, ZeekJsonRecord};
pub use self::options::ReadOptions;
pub use self::reader::{Inputs, LogContent, LogFile, PassedOver, Progress, Reader, open, read_windows_events};
pub use self::stats::{ReadStats, SkipReason, Skipped};
pub use self::zeek::{ZeekHeader, ZeekReader, ZeekReaderBuilder, ZeekRecord};
pub(crate) use self::zeek_names::strip_port;
pub use self::zeek_names::{
    Answer, AnswerIter, Answers, DnsRecord, HttpRecord, LogKind, NameLogReader, NameRecord, SslRecord,
};
