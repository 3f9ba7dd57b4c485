//! Reading logs: one layer for every input the crate knows.
//!
//! - [`open`] / [`ReadOptions::open`] give a [`Reader`] over a file or a directory (walked
//!   recursively; see [`Inputs`]) of Zeek `conn.log` (TSV or JSON), CSV flows, Windows event
//!   JSON or native EVTX (feature `evtx`), each plain, gzip, or the members of a zip archive
//!   (stored or deflated, as public Windows datasets ship). It hands out borrowed
//!   [`ConnEvent`](crate::ConnEvent)s (for Windows logs, the Sysmon 3 network connections)
//!   and Windows records ([`Reader::for_each_record`]).
//! - [`ReadOptions`] is the one set of settings every reader takes: strict mode, buffer size, a
//!   cap on a record's length.
//! - [`ReadStats`] is the one set of counts every reader keeps, with typed [`SkipReason`]s and
//!   the file read; [`Skipped`] is one skipped record with its position.
//! - The format readers underneath ([`ZeekReader`], [`ZeekJsonReader`], [`CsvReader`],
//!   [`NameLogReader`], [`DhcpLogReader`], [`WinEventReader`](crate::winevent::WinEventReader), `EvtxReader`) can be used
//!   directly for a format's own fields.
//!
//! Every format reader follows the `csv` crate's shape: a builder, a reader over any
//! [`std::io::Read`] (gzip is detected by its magic bytes and decompressed transparently), a
//! reusable record that keeps a whole line in one buffer plus field offsets, and events that
//! borrow from that record. After warm-up no record allocates.
//!
//! ```text
//!   io::Read ──▶ reader (owns the input buffer) ──read_record──▶ record (line + offsets)
//!                                                                 │ conn_event()
//!                                                                 ▼
//!                                                   ConnEvent<'record> (Copy, borrowed)
//! ```
//!
//! Bad input never panics and is never dropped silently: each data line is either an event or a
//! [`Skipped`] entry counted in [`ReadStats`] (with its file, line, byte offset, field and
//! reason). A file that ends early (a truncated or corrupt gzip stream, an EVTX file cut short)
//! keeps what was read and counts the rest as [`SkipReason::Truncated`]; in strict mode the
//! first bad line, or the damage, is an [`Error`](crate::Error) instead.
//!
//! # Example: any supported file or directory
//! ```no_run
//! # fn main() -> beaconstat::Result<()> {
//! let mut reader = beaconstat::open("conn.log.gz")?;
//! let mut n = 0;
//! reader.for_each(|ev| n += usize::from(ev.dst_port == Some(443)))?;
//! println!("{n} HTTPS connections; {}", reader.stats());
//! # Ok(()) }
//! ```

mod builder;
mod csv;
mod detect;
mod json;
mod num;
mod parallel;
mod parallel_records;
#[cfg(feature = "arrow")]
mod parquet;
mod reader;
mod zeek;
mod zeek_dhcp;
mod zeek_log;
mod zeek_names;
mod zip;

pub use self::csv::{CsvReader, CsvReaderBuilder, CsvRecord, TimeFormat};
pub use self::detect::detect;
pub use self::json::{ZeekJsonReader, ZeekJsonReaderBuilder, ZeekJsonRecord};
pub use self::parallel::{ParallelRead, ParallelReader};
pub(crate) use self::parallel_records::Intake;
#[cfg(feature = "arrow")]
pub use self::parquet::{ParquetReader, ParquetReaderBuilder};
pub use self::reader::{Inputs, LogContent, LogFile, PassedOver, Progress, Reader, open, read_windows_events};
pub use self::zeek::{ZeekHeader, ZeekReader, ZeekReaderBuilder, ZeekRecord};
pub use self::zeek_dhcp::{DhcpLayout, DhcpLogReader, DhcpRecord};
pub use self::zeek_log::{ZeekList, ZeekListIter};
pub(crate) use self::zeek_names::strip_port;
pub use self::zeek_names::{
    Answer, AnswerIter, Answers, DnsRecord, HttpRecord, LogKind, NameLogReader, NameRecord, SslRecord,
};
pub use crate::input::{Format, ReadOptions, ReadStats, SkipReason, Skipped};
