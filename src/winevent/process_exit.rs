//! Process terminations: Sysmon 5 and Security 4689, borrowed from their record. They end a
//! process instance, so that a reused PID is not taken for the process that had it before,
//! and they give a process its end time.

use super::known::Name;
use super::record::RecordView;
use super::record::{TimeSource, WinRecord, parse_pid};
use crate::time::Timestamp;

/// Which log a process termination came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ProcessExitSource {
    /// Sysmon event 5 (GUID, PID, image; `UtcTime`).
    Sysmon5,
    /// Security 4689 (hex PID, `ProcessName`; `TimeCreated`).
    Security4689,
}

/// A process termination (Sysmon 5 or Security 4689), borrowed from its record, PID
/// normalised (4689 logs it in hex).
///
/// # Example
/// ```
/// use beaconstat::winevent::{ProcessExitEvent, ProcessExitSource, WinRecord};
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":4689,"Channel":"Security","Hostname":"WS5","TimeCreated":"2020-12-19T07:00:18.107Z",
///   "ProcessId":"0x20fc","ProcessName":"C:\\Windows\\System32\\cscript.exe","Status":"0x0"}"#)?;
/// let e = ProcessExitEvent::from_record(&rec).unwrap();
/// assert_eq!(e.source, ProcessExitSource::Security4689);
/// assert_eq!((e.host, e.pid, e.image), ("WS5", Some(0x20fc), Some(r"C:\Windows\System32\cscript.exe")));
/// assert_eq!(e.ts.to_string(), "2020-12-19T07:00:18.107000Z");
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessExitEvent<'a> {
    /// Sysmon 5 or Security 4689.
    pub source: ProcessExitSource,
    /// When it ended: Sysmon `UtcTime`, else the logged time (see [`WinRecord::event_time`]).
    pub ts: Timestamp,
    /// The field `ts` came from.
    pub time_source: TimeSource,
    /// The computer.
    pub host: &'a str,
    /// `ProcessId`.
    pub pid: Option<u32>,
    /// `ProcessGuid` (Sysmon).
    pub guid: Option<&'a str>,
    /// `Image` (Sysmon) or `ProcessName` (4689).
    pub image: Option<&'a str>,
}

impl<'a> ProcessExitEvent<'a> {
    /// Builds a termination from Sysmon 5 or Security 4689; `None` otherwise, or when the
    /// time or the host is missing.
    pub fn from_record(rec: &'a WinRecord) -> Option<ProcessExitEvent<'a>> {
        Self::from_view(&RecordView::new(rec))
    }

    /// [`ProcessExitEvent::from_record`] of a record whose times may be decoded already.
    pub(crate) fn from_view(v: &RecordView<'a>) -> Option<ProcessExitEvent<'a>> {
        let rec = v.rec;
        let source = match rec.event_id()? {
            5 if rec.is_sysmon() => ProcessExitSource::Sysmon5,
            4689 if rec.is_security() => ProcessExitSource::Security4689,
            _ => return None,
        };
        let d = |k: Name| rec.field_opt(k);
        let (guid, image) = match source {
            ProcessExitSource::Sysmon5 => (d(Name::ProcessGuid), d(Name::Image)),
            ProcessExitSource::Security4689 => (None, rec.data_opt("ProcessName")),
        };
        let time = v.event_time()?;
        Some(ProcessExitEvent {
            source,
            ts: time.ts,
            time_source: time.source,
            host: rec.computer()?,
            pid: d(Name::ProcessId).and_then(parse_pid),
            guid,
            image,
        })
    }
}
