//! [`WinRecord`]: one Windows event, flattened, with its text kept in two reusable buffers.

use super::field::{Field, Ns, Span};
use super::known::{KnownFields, Name};
use crate::error::{Position, Result};
use crate::time::{Interval, Timestamp};
use std::cell::OnceCell;

/// The JSON shape a record was exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum WinShape {
    /// `evtx_dump` / `evtx` crate JSON: `Event.System.*`, `Event.EventData.*`, `#attributes`.
    Evtx,
    /// Winlogbeat / Elastic: `winlog.event_id`, `winlog.event_data.*`, `winlog.computer_name`.
    Winlogbeat,
    /// Flat NXLog / OTRF Security-Datasets: `EventID`, `Channel`, `Hostname` at the top level.
    #[default]
    Flat,
}

/// One Windows event record, flattened from one JSON object.
///
/// All text borrows from two buffers the record owns and reuses: the raw line, and a scratch
/// buffer holding strings that had JSON escapes. A whole file streams through one `WinRecord`
/// with no allocation per record once the buffers have grown (the `csv` crate's `ByteRecord`
/// idea). Fields are indexed by name once per record as it is parsed, so a lookup is one hash
/// and one comparison; the event id and the channel are decoded once too.
///
/// ```text
///   WinRecord (owns line + scratch)  ──borrowed by──▶  ConnEvent<'r>, TaskEvent<'r>, ProcessEvent<'r>
/// ```
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS5","Image":"C:\\x.exe"}"#)?;
/// assert_eq!(rec.event_id(), Some(3));
/// assert_eq!(rec.computer(), Some("WS5"));
/// assert_eq!(rec.data("Image"), Some(r"C:\x.exe"));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct WinRecord {
    pub(crate) line: String,
    pub(crate) scratch: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) path: Vec<Span>,
    pub(crate) known: KnownFields,
    pub(crate) shape: WinShape,
    pub(crate) position: Position,
    /// Decoded once per record by [`WinRecord::decode_system`].
    pub(crate) event_id: Option<u32>,
    pub(crate) channel_kind: ChannelKind,
}

/// Which log a record is from, decided once per record from its channel and provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChannelKind {
    pub(crate) sysmon: bool,
    pub(crate) security: bool,
    pub(crate) task_scheduler: bool,
    pub(crate) powershell: bool,
}

impl WinRecord {
    /// An empty record (buffers grow on first use and are then reused).
    pub fn new() -> Self {
        Self::default()
    }

    /// Clears the record, keeping buffer capacity.
    pub fn clear(&mut self) {
        self.line.clear();
        self.scratch.clear();
        self.fields.clear();
        self.path.clear();
        self.known.clear();
        self.shape = WinShape::Flat;
        self.event_id = None;
        self.channel_kind = ChannelKind::default();
    }

    /// Makes this record a copy of `other`, reusing this one's buffers (no allocation once
    /// they are large enough): for handing records to another thread in reused batches.
    pub(crate) fn copy_from(&mut self, other: &WinRecord) {
        self.line.clone_from(&other.line);
        self.scratch.clone_from(&other.scratch);
        self.fields.clone_from(&other.fields);
        self.path.clone_from(&other.path);
        self.known.clone_from(&other.known);
        self.shape = other.shape;
        self.position = other.position;
        self.event_id = other.event_id;
        self.channel_kind = other.channel_kind;
    }

    /// Parses one JSON object (copied into the record's line buffer).
    ///
    /// # Errors
    /// [`ErrorKind::Parse`](crate::ErrorKind::Parse) with the byte offset inside `json` when it
    /// is not one well-formed JSON object.
    pub fn parse_str(&mut self, json: &str) -> Result<()> {
        self.clear();
        self.line.push_str(json);
        self.parse_line()
    }

    pub(crate) fn str_of(&self, s: Span) -> &str {
        let (buf, a, b) = match s {
            Span::Line(a, b) => (self.line.as_str(), a, b),
            Span::Scratch(a, b) => (self.scratch.as_str(), a, b),
        };
        buf.get(a as usize..b as usize).unwrap_or("")
    }

    /// The first field named `name` in `ns`: by the known-name table, else by a scan.
    pub(crate) fn find(&self, ns: Ns, name: &str) -> Option<&str> {
        match Name::from_text(name.as_bytes()) {
            Some(n) => self.get(ns, n),
            None => self.scan(ns, name),
        }
    }

    /// The first field named `n` in `ns`.
    pub(crate) fn get(&self, ns: Ns, n: Name) -> Option<&str> {
        let i = self.known.get(ns, n)?;
        self.fields.get(i).map(|f| self.str_of(f.value))
    }

    /// The first field named `name` in `ns`, by looking at every field.
    pub(crate) fn scan(&self, ns: Ns, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.ns == ns && self.str_of(f.name) == name)
            .map(|f| self.str_of(f.value))
    }

    /// [`WinRecord::data`] by a known name.
    pub(crate) fn field(&self, n: Name) -> Option<&str> {
        self.get(Ns::Data, n).or_else(|| self.get(Ns::Top, n))
    }

    /// [`WinRecord::data_opt`] by a known name.
    pub(crate) fn field_opt(&self, n: Name) -> Option<&str> {
        self.field(n).filter(|v| !v.is_empty() && *v != "-")
    }

    /// A system field (or top-level key) by a known name, as [`WinRecord::system`].
    fn sys(&self, n: Name) -> Option<&str> {
        self.get(Ns::System, n).or_else(|| self.get(Ns::Top, n))
    }

    /// Notes where the known names are and decodes what every consumer asks first (the event
    /// id, the channel), so neither is looked up and parsed again per question.
    pub(crate) fn decode_system(&mut self) {
        let WinRecord {
            known,
            fields,
            line,
            scratch,
            ..
        } = self;
        known.build(fields, |f| match f.name {
            Span::Line(a, b) => line.as_bytes().get(a as usize..b as usize).unwrap_or(b""),
            Span::Scratch(a, b) => scratch.as_bytes().get(a as usize..b as usize).unwrap_or(b""),
        });
        self.event_id = self
            .get(Ns::System, Name::EventID)
            .or_else(|| self.get(Ns::System, Name::event_id))
            .or_else(|| self.get(Ns::Top, Name::EventID))
            .and_then(|v| v.trim().parse().ok());
        let (channel, provider) = (self.channel(), self.provider());
        let is = |c: fn(&str) -> bool, p: &str| channel.is_some_and(c) || provider.is_some_and(|v| v == p);
        self.channel_kind = ChannelKind {
            sysmon: is(
                |c| c.starts_with("Microsoft-Windows-Sysmon"),
                "Microsoft-Windows-Sysmon",
            ),
            security: is(
                |c| c.eq_ignore_ascii_case("Security"),
                "Microsoft-Windows-Security-Auditing",
            ),
            task_scheduler: is(
                |c| c.starts_with("Microsoft-Windows-TaskScheduler"),
                "Microsoft-Windows-TaskScheduler",
            ),
            powershell: is(|c| c.contains("PowerShell"), "Microsoft-Windows-PowerShell"),
        };
    }

    /// The JSON shape this record came in.
    pub fn shape(&self) -> WinShape {
        self.shape
    }

    /// Where this record started in its input (line 0 for records that came from `.evtx`).
    pub fn position(&self) -> Position {
        self.position
    }

    /// An event-data field (`EventData`, `winlog.event_data`, or a top-level key in the flat
    /// shape). Empty strings and `-` are returned as they are; see [`WinRecord::data_opt`].
    pub fn data(&self, name: &str) -> Option<&str> {
        self.find(Ns::Data, name).or_else(|| self.find(Ns::Top, name))
    }

    /// Like [`WinRecord::data`], but `""` and `"-"` (Windows' "no value") become `None`.
    pub fn data_opt(&self, name: &str) -> Option<&str> {
        self.data(name).filter(|v| !v.is_empty() && *v != "-")
    }

    /// A system field by its evtx name (`Computer`, `Channel`, `SystemTime`, `ActivityID`,
    /// `ProcessID` of `Execution`, `EventRecordID`, provider `Name`), or a top-level key.
    pub fn system(&self, name: &str) -> Option<&str> {
        self.find(Ns::System, name).or_else(|| self.find(Ns::Top, name))
    }

    /// All fields as `(name, value)`, in input order (system, data and top-level mixed).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields.iter().map(|f| (self.str_of(f.name), self.str_of(f.value)))
    }

    /// The event id (`EventID`, `winlog.event_id`).
    pub fn event_id(&self) -> Option<u32> {
        self.event_id
    }

    /// The channel (`Security`, `Microsoft-Windows-Sysmon/Operational`, …).
    pub fn channel(&self) -> Option<&str> {
        self.get(Ns::System, Name::Channel)
            .or_else(|| self.get(Ns::System, Name::channel))
            .or_else(|| self.get(Ns::Top, Name::Channel))
    }

    /// The provider name (`Microsoft-Windows-Sysmon`, …).
    pub fn provider(&self) -> Option<&str> {
        self.get(Ns::System, Name::Name)
            .or_else(|| self.get(Ns::System, Name::provider_name))
            .or_else(|| self.get(Ns::Top, Name::SourceName))
            .or_else(|| self.get(Ns::Top, Name::ProviderName))
    }

    /// The computer that logged the event (`Computer`, `winlog.computer_name`, `Hostname`).
    pub fn computer(&self) -> Option<&str> {
        self.get(Ns::System, Name::Computer)
            .or_else(|| self.get(Ns::System, Name::computer_name))
            .or_else(|| self.get(Ns::Top, Name::Hostname))
            .or_else(|| self.get(Ns::Top, Name::Computer))
            .or_else(|| self.get(Ns::System, Name::name))
    }

    /// The event's `TimeCreated` (`SystemTime`, `TimeCreated`, or `@timestamp`) as logged.
    ///
    /// Some exports write local time labelled as UTC here; Sysmon's `UtcTime` (see
    /// [`WinRecord::utc_time`]) is then the reference (the lineage builder measures the offset).
    /// In the flat NXLog / Logstash shape `@timestamp` is the collector's time, taken here
    /// before NXLog's zone-less `EventTime`; [`WinRecord::event_time`] prefers the event's own
    /// time and says which field it came from.
    pub fn time_created(&self) -> Option<Timestamp> {
        // NXLog's `EventTime` is local time without a zone: a last resort (the lineage
        // builder measures and corrects a host's offset against Sysmon `UtcTime`).
        RecordView::new(self).time_created()
    }

    /// The event's own time and the field it came from, the collector's time only as a last
    /// resort: Sysmon `UtcTime`; the logged creation time (`System.TimeCreated.SystemTime`,
    /// a flat `TimeCreated`, Winlogbeat's `@timestamp`, which Winlogbeat sets from the
    /// record); NXLog's `EventTime` (local time without a zone); then the flat shape's
    /// `@timestamp`, which Logstash sets when it receives the record (seconds late).
    ///
    /// # Example
    /// ```
    /// use beaconstat::Timestamp;
    /// use beaconstat::winevent::{TimeSource, WinRecord};
    /// let mut rec = WinRecord::new();
    /// // NXLog through Logstash: local EventTime (UTC-4) and the collector's @timestamp.
    /// rec.parse_str(r#"{"EventID":4698,"Channel":"security","Hostname":"H",
    ///   "EventTime":"2020-09-21 23:04:00","@timestamp":"2020-09-22T03:04:01.454Z"}"#)?;
    /// let t = rec.event_time().unwrap();
    /// assert_eq!(t.source, TimeSource::LocalTime);
    /// assert_eq!(t.ts, Timestamp::parse_rfc3339("2020-09-21T23:04:00Z").unwrap());
    /// assert_eq!(rec.collector_time(), Timestamp::parse_rfc3339("2020-09-22T03:04:01.454Z"));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn event_time(&self) -> Option<EventTime> {
        RecordView::new(self).event_time()
    }

    /// The event's time apart from Sysmon's `UtcTime`: the logged creation time, else NXLog's
    /// zone-less `EventTime`, else the collector's `@timestamp` (see [`WinRecord::event_time`]).
    pub fn logged_time(&self) -> Option<EventTime> {
        RecordView::new(self).logged_time()
    }

    /// When a collector received the record, where the export says: the flat shape's
    /// `@timestamp` (Logstash), Winlogbeat's `event.created`.
    pub fn collector_time(&self) -> Option<Timestamp> {
        RecordView::new(self).collector_time()
    }

    /// Sysmon's `UtcTime` event-data field.
    pub fn utc_time(&self) -> Option<Timestamp> {
        RecordView::new(self).utc_time()
    }

    /// The best timestamp: Sysmon `UtcTime` where present, else `TimeCreated`.
    pub fn timestamp(&self) -> Option<Timestamp> {
        RecordView::new(self).timestamp()
    }

    /// `UtcTime - TimeCreated` where both exist (a clock or export disagreement when large).
    pub fn clock_skew(&self) -> Option<Interval> {
        Some(self.utc_time()? - self.time_created()?)
    }

    /// The correlation activity id (`Correlation.ActivityID`, `winlog.activity_id`,
    /// `ActivityID`): the task instance id of TaskScheduler events.
    pub fn activity_id(&self) -> Option<&str> {
        self.get(Ns::System, Name::ActivityID)
            .or_else(|| self.get(Ns::System, Name::activity_id))
            .or_else(|| self.get(Ns::Top, Name::ActivityID))
    }

    /// The event record id.
    pub fn record_id(&self) -> Option<u64> {
        RecordView::new(self).record_id()
    }

    /// The event's version (`Version`), 0 when absent.
    pub fn version(&self) -> u32 {
        self.sys(Name::Version).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// True for Sysmon's channel or provider.
    pub fn is_sysmon(&self) -> bool {
        self.channel_kind.sysmon
    }

    /// True for the Security channel.
    pub fn is_security(&self) -> bool {
        self.channel_kind.security
    }

    /// True for `Microsoft-Windows-TaskScheduler/Operational`.
    pub fn is_task_scheduler(&self) -> bool {
        self.channel_kind.task_scheduler
    }

    /// True for the PowerShell Operational channel.
    pub fn is_powershell(&self) -> bool {
        self.channel_kind.powershell
    }
}

/// Which field an event's time came from ([`WinRecord::event_time`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TimeSource {
    /// Sysmon's `UtcTime`: UTC by definition.
    UtcTime,
    /// The logged creation time (`SystemTime`, `TimeCreated`, Winlogbeat `@timestamp`): UTC,
    /// unless the export wrote local time labelled UTC (measured against Sysmon).
    SystemTime,
    /// NXLog's `EventTime`: local time without a zone (the offset is measured per host).
    LocalTime,
    /// A collector's receive time (`@timestamp` of the flat shape): seconds after the event.
    Collector,
}

impl TimeSource {
    /// The field name as exports write it (`UtcTime`, `TimeCreated`, `EventTime`,
    /// `@timestamp`).
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::UtcTime => "UtcTime",
            TimeSource::SystemTime => "TimeCreated",
            TimeSource::LocalTime => "EventTime",
            TimeSource::Collector => "@timestamp",
        }
    }
}

/// An event's time and the field it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime {
    /// The time as logged (not corrected).
    pub ts: Timestamp,
    /// The field it came from.
    pub source: TimeSource,
}

/// Parses a process id written in decimal (`1532`) or hex (`0x5fc`, as in Security 4688).
///
/// # Example
/// ```
/// use beaconstat::winevent::parse_pid;
/// assert_eq!(parse_pid("0x5fc"), Some(1532));
/// assert_eq!(parse_pid("1532"), Some(1532));
/// assert_eq!(parse_pid("-"), None);
/// ```
pub fn parse_pid(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

// The values of one record that several consumers ask for (its times, its record id), each
// decoded at most once.

/// One record and the values decoded from it so far: each time field is parsed at most once
/// however many decoders ask (a task event, the clock samples and the join all want the
/// record's time). The answers are those of the [`WinRecord`] methods of the same names,
/// which are made of this.
#[derive(Debug)]
pub(crate) struct RecordView<'r> {
    pub(crate) rec: &'r WinRecord,
    record_id: OnceCell<Option<u64>>,
    /// Sysmon `UtcTime`.
    utc: OnceCell<Option<Timestamp>>,
    /// `System.TimeCreated.SystemTime`, else a flat `TimeCreated`.
    system: OnceCell<Option<Timestamp>>,
    /// A top-level `@timestamp`.
    at: OnceCell<Option<Timestamp>>,
    /// NXLog's zone-less `EventTime`.
    local: OnceCell<Option<Timestamp>>,
    /// [`RecordView::time_created`].
    created: OnceCell<Option<Timestamp>>,
    /// [`RecordView::logged_time`].
    logged: OnceCell<Option<EventTime>>,
    /// [`RecordView::collector_time`].
    collector: OnceCell<Option<Timestamp>>,
}

fn parse(v: Option<&str>) -> Option<Timestamp> {
    v.and_then(Timestamp::parse_rfc3339)
}

impl<'r> RecordView<'r> {
    /// A view of `rec` with nothing decoded yet.
    pub(crate) fn new(rec: &'r WinRecord) -> Self {
        RecordView {
            rec,
            record_id: OnceCell::new(),
            utc: OnceCell::new(),
            system: OnceCell::new(),
            at: OnceCell::new(),
            local: OnceCell::new(),
            created: OnceCell::new(),
            logged: OnceCell::new(),
            collector: OnceCell::new(),
        }
    }

    fn system_text(&self) -> Option<&'r str> {
        let rec = self.rec;
        rec.get(Ns::System, Name::SystemTime)
            .or_else(|| rec.get(Ns::Top, Name::TimeCreated))
    }

    fn system_time(&self) -> Option<Timestamp> {
        *self.system.get_or_init(|| parse(self.system_text()))
    }

    fn at_time(&self) -> Option<Timestamp> {
        *self.at.get_or_init(|| parse(self.rec.get(Ns::Top, Name::at_timestamp)))
    }

    fn local_time(&self) -> Option<Timestamp> {
        *self.local.get_or_init(|| parse(self.rec.get(Ns::Top, Name::EventTime)))
    }

    /// [`WinRecord::record_id`].
    pub(crate) fn record_id(&self) -> Option<u64> {
        *self.record_id.get_or_init(|| {
            let rec = self.rec;
            rec.get(Ns::System, Name::EventRecordID)
                .or_else(|| rec.get(Ns::System, Name::record_id))
                .or_else(|| rec.get(Ns::Top, Name::RecordNumber))
                .and_then(|v| v.parse().ok())
        })
    }

    /// [`WinRecord::utc_time`].
    pub(crate) fn utc_time(&self) -> Option<Timestamp> {
        *self.utc.get_or_init(|| parse(self.rec.field(Name::UtcTime)))
    }

    /// [`WinRecord::time_created`]: the first of `SystemTime`, `TimeCreated`, `@timestamp`,
    /// `EventTime` that is present, parsed.
    pub(crate) fn time_created(&self) -> Option<Timestamp> {
        *self.created.get_or_init(|| {
            if self.system_text().is_some() {
                self.system_time()
            } else if self.rec.get(Ns::Top, Name::at_timestamp).is_some() {
                self.at_time()
            } else {
                self.local_time()
            }
        })
    }

    /// [`WinRecord::event_time`].
    pub(crate) fn event_time(&self) -> Option<EventTime> {
        at(self.utc_time(), TimeSource::UtcTime).or_else(|| self.logged_time())
    }

    /// [`WinRecord::logged_time`].
    pub(crate) fn logged_time(&self) -> Option<EventTime> {
        *self.logged.get_or_init(|| {
            let logged = match self.rec.shape {
                WinShape::Winlogbeat => self.at_time(),
                _ => self.system_time(),
            };
            at(logged, TimeSource::SystemTime)
                .or_else(|| at(self.local_time(), TimeSource::LocalTime))
                .or_else(|| at(self.collector_time(), TimeSource::Collector))
        })
    }

    /// [`WinRecord::collector_time`].
    pub(crate) fn collector_time(&self) -> Option<Timestamp> {
        *self.collector.get_or_init(|| match self.rec.shape {
            WinShape::Winlogbeat => parse(self.rec.find(Ns::System, "created")),
            WinShape::Flat => self.at_time(),
            WinShape::Evtx => None,
        })
    }

    /// [`WinRecord::timestamp`].
    pub(crate) fn timestamp(&self) -> Option<Timestamp> {
        self.utc_time().or_else(|| self.time_created())
    }
}

fn at(ts: Option<Timestamp>, source: TimeSource) -> Option<EventTime> {
    ts.map(|ts| EventTime { ts, source })
}

#[cfg(test)]
mod tests {
    // The field table (`known.rs`) answers what a scan answers.
    mod known_table {
        use super::super::*;
        use proptest::prelude::*;

        /// Known names (one spelled with an escape in the input) and unknown ones.
        const ASKED: [&str; 8] = [
            "EventID",
            "Channel",
            "Image",
            "ProcessId",
            "a",
            "Computer",
            "UtcTime",
            "a_longer_name_x",
        ];

        /// Every (namespace, name) a record can be asked for: by the table and by a scan.
        fn answers(rec: &WinRecord) -> (Vec<Option<&str>>, Vec<Option<&str>>) {
            let mut by_table = Vec::new();
            let mut by_scan = Vec::new();
            for ns in [Ns::System, Ns::Data, Ns::Top] {
                for n in ASKED {
                    by_table.push(rec.find(ns, n));
                    by_scan.push(rec.scan(ns, n));
                }
            }
            (by_table, by_scan)
        }

        proptest! {
            /// The table answers exactly what a scan in input order answers (the first field of
            /// a name wins), in every namespace, with repeated and escaped names.
            #[test]
            fn table_agrees_with_a_scan(
                top in proptest::collection::vec((0..ASKED.len(), 0u8..50), 0..12),
                system in proptest::collection::vec((0..ASKED.len(), 0u8..50, any::<bool>()), 0..12),
                data in proptest::collection::vec((0..ASKED.len(), 0u8..50, any::<bool>()), 0..12),
            ) {
                let obj = |fields: &[(usize, u8, bool)]| {
                    let parts: Vec<String> = fields
                        .iter()
                        .map(|&(n, v, esc)| {
                            // An escaped key is decoded into scratch; a plain one borrows the line.
                            let key = if esc { ASKED[n].replacen('a', "\\u0061", 1) } else { ASKED[n].to_owned() };
                            format!("\"{key}\":\"v{v}\"")
                        })
                        .collect();
                    format!("{{{}}}", parts.join(","))
                };
                let mut body: Vec<String> = top.iter().map(|&(n, v)| format!("\"{}\":{v}", ASKED[n])).collect();
                body.push(format!("\"Event\":{{\"System\":{},\"EventData\":{}}}", obj(&system), obj(&data)));
                let mut rec = WinRecord::new();
                rec.parse_str(&format!("{{{}}}", body.join(","))).unwrap();
                let (by_table, by_scan) = answers(&rec);
                prop_assert_eq!(by_table, by_scan);
                let id = rec.scan(Ns::System, "EventID").or_else(|| rec.scan(Ns::Top, "EventID"));
                prop_assert_eq!(rec.event_id(), id.and_then(|v| v.trim().parse().ok()));
            }
        }
    }

    use super::*;

    #[test]
    fn evtx_shape_system_and_data() {
        let mut r = WinRecord::new();
        r.parse_str(r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-TaskScheduler","Guid":"{de7b}"}},"EventID":{"#text":200,"#attributes":{"Qualifiers":0}},"Version":1,"TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T00:02:04.3199452Z"}},"EventRecordID":566836,"Correlation":{"#attributes":{"ActivityID":"{0503AC85}"}},"Execution":{"#attributes":{"ProcessID":452,"ThreadID":2836}},"Channel":"Microsoft-Windows-TaskScheduler/Operational","Computer":"H1","Security":null},"EventData":{"TaskName":"\\T","EnginePID":1532,"ProcessID":99}}}"##).unwrap();
        assert_eq!(r.shape(), WinShape::Evtx);
        assert_eq!(r.event_id(), Some(200));
        assert_eq!(r.version(), 1);
        assert_eq!(r.provider(), Some("Microsoft-Windows-TaskScheduler"));
        assert!(r.is_task_scheduler());
        assert_eq!(r.computer(), Some("H1"));
        assert_eq!(r.activity_id(), Some("{0503AC85}"));
        assert_eq!(r.record_id(), Some(566_836));
        assert_eq!(r.system("ProcessID"), Some("452"));
        assert_eq!(
            r.data("ProcessID"),
            Some("99"),
            "EventData and Execution do not collide"
        );
        assert_eq!(r.data("TaskName"), Some(r"\T"));
        assert_eq!(
            r.time_created(),
            Timestamp::parse_rfc3339("2019-03-19T00:02:04.319945Z")
        );
        // No escapes in "H1": it borrows the line; the escaped task name went to scratch.
        assert!(r.scratch.len() < 8);
    }

    #[test]
    fn winlogbeat_shape() {
        let mut r = WinRecord::new();
        r.parse_str(r##"{"@timestamp":"2021-01-01T00:00:01.5Z","host":{"name":"h2"},"winlog":{"event_id":"4698","channel":"Security","computer_name":"H2.corp","provider_name":"Microsoft-Windows-Security-Auditing","event_data":{"TaskName":"\\X","SubjectLogonId":"0x3e7"}}}"##).unwrap();
        assert_eq!(r.shape(), WinShape::Winlogbeat);
        assert_eq!(r.event_id(), Some(4698));
        assert_eq!(r.computer(), Some("H2.corp"));
        assert!(r.is_security());
        assert_eq!(r.data("SubjectLogonId"), Some("0x3e7"));
        assert_eq!(r.time_created(), Some(Timestamp::from_micros(1_609_459_201_500_000)));
    }

    #[test]
    fn unescapes_unicode_and_surrogates() {
        let mut r = WinRecord::new();
        r.parse_str(r#"{"EventID":1,"a":"x\u00ae\ud83d\ude00\"\n","b":[1,"two",null,true]}"#)
            .unwrap();
        assert_eq!(r.data("a"), Some("x\u{ae}\u{1F600}\"\n"));
        assert_eq!(r.fields().filter(|(k, _)| *k == "b").count(), 3);
        assert_eq!(r.data("b"), Some("1"));
    }

    #[test]
    fn rejects_bad_json_with_offsets() {
        let mut r = WinRecord::new();
        for (bad, at) in [
            ("[1]", 0),
            (r#"{"a":1"#, 6),
            (r#"{"a":"x}"#, 5),
            (r#"{"a":1} x"#, 8),
            (r#"{"a":tru}"#, 5),
            (r#"{"a":"\q"}"#, 6),
        ] {
            let e = r.parse_str(bad).unwrap_err();
            assert_eq!(e.position().map(|p| p.byte), Some(at), "{bad}: {e}");
        }
        let deep = format!("{}{}", "{\"a\":".repeat(100), "}".repeat(100));
        assert!(r.parse_str(&deep).is_err());
    }

    #[test]
    fn pids() {
        assert_eq!(parse_pid("0x0"), Some(0));
        assert_eq!(parse_pid(" 4 "), Some(4));
        assert_eq!(parse_pid("0xZZ"), None);
    }
}
