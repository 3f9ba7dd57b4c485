//! What every reader stands on: a file's bytes (plain or gzip) as capped lines with their
//! positions (`Lines`), the settings every reader takes (`ReadOptions`), the counts every
//! reader keeps with typed skip reasons (`ReadStats`, `SkipReason`, `Skipped`), the formats by
//! name (`Format`) and the event fields a tabular input maps its columns to.
//!
//! The format readers import it: `read` (Zeek, CSV, Parquet, and the one `Reader` over them
//! all), `winevent` (Windows event JSON and EVTX) and `arrow`; it imports none of them, so the
//! readers depend on each other one way only (`read` dispatches to `winevent` and `arrow`,
//! never the other way). Its public types are re-exported from `read` and the crate root.

pub(crate) mod columns;
mod format;
mod lines;
mod options;
mod stats;

pub use self::format::Format;
pub(crate) use self::lines::{Input, LineInfo, Lines, is_gzip_header};
pub use self::options::ReadOptions;
pub(crate) use self::stats::Bad;
pub use self::stats::{ReadStats, SkipReason, Skipped};
