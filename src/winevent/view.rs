//! [`RecordView`]: the values of one record that several consumers ask for (its times, its
//! record id), each decoded at most once, and [`Decoded`]: what the record is, decoded once
//! for lineage and the AN1113 join together.

use super::decode::{EvidenceEvent, ProcessEvent, TaskEvent};
use super::field::Ns;
use super::known::Name;
use super::network::{DnsQueryEvent, wfp_conn_from_view};
use super::process_exit::ProcessExitEvent;
use super::record::{EventTime, TimeSource, WinRecord, WinShape};
use super::sysmon::sysmon_conn_from_view;
use crate::event::ConnEvent;
use crate::time::Timestamp;
use std::cell::OnceCell;

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
        if self.system_text().is_some() {
            self.system_time()
        } else if self.rec.get(Ns::Top, Name::at_timestamp).is_some() {
            self.at_time()
        } else {
            self.local_time()
        }
    }

    /// [`WinRecord::event_time`].
    pub(crate) fn event_time(&self) -> Option<EventTime> {
        at(self.utc_time(), TimeSource::UtcTime).or_else(|| self.logged_time())
    }

    /// [`WinRecord::logged_time`].
    pub(crate) fn logged_time(&self) -> Option<EventTime> {
        let logged = match self.rec.shape {
            WinShape::Winlogbeat => self.at_time(),
            _ => self.system_time(),
        };
        at(logged, TimeSource::SystemTime)
            .or_else(|| at(self.local_time(), TimeSource::LocalTime))
            .or_else(|| at(self.collector_time(), TimeSource::Collector))
    }

    /// [`WinRecord::collector_time`].
    pub(crate) fn collector_time(&self) -> Option<Timestamp> {
        match self.rec.shape {
            WinShape::Winlogbeat => parse(self.rec.find(Ns::System, "created")),
            WinShape::Flat => self.at_time(),
            WinShape::Evtx => None,
        }
    }

    /// [`WinRecord::timestamp`].
    pub(crate) fn timestamp(&self) -> Option<Timestamp> {
        self.utc_time().or_else(|| self.time_created())
    }
}

fn at(ts: Option<Timestamp>, source: TimeSource) -> Option<EventTime> {
    ts.map(|ts| EventTime { ts, source })
}

/// What a record is, decoded once: each decoder answers only for its own event ids (no two
/// share one), so the first that answers is the only one that would.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Decoded<'r> {
    /// Security 4698–4702, TaskScheduler/Operational.
    Task(TaskEvent<'r>),
    /// Sysmon 1, Security 4688.
    Process(ProcessEvent<'r>),
    /// Sysmon 3.
    SysmonConn(ConnEvent<'r>),
    /// Supporting evidence for lineage (Sysmon 7/11–14, Security 5145/4624/4657/…, 4104).
    Evidence(EvidenceEvent<'r>),
    /// Security 5156 (outbound).
    WfpConn(ConnEvent<'r>),
    /// Sysmon 22.
    Dns(DnsQueryEvent<'r>),
    /// Sysmon 5, Security 4689.
    Exit(ProcessExitEvent<'r>),
    /// Nothing any decoder takes.
    Other,
}

impl<'r> Decoded<'r> {
    /// Decodes the record of `v`.
    pub(crate) fn of(v: &RecordView<'r>) -> Decoded<'r> {
        let Some(id) = v.rec.event_id() else {
            return Decoded::Other;
        };
        let d = match id {
            3 => sysmon_conn_from_view(v).map(Decoded::SysmonConn),
            5156 => wfp_conn_from_view(v).map(Decoded::WfpConn),
            22 => DnsQueryEvent::from_view(v).map(Decoded::Dns),
            1 | 4688 => ProcessEvent::from_view(v).map(Decoded::Process),
            5 | 4689 => ProcessExitEvent::from_view(v).map(Decoded::Exit),
            _ => TaskEvent::from_view(v)
                .map(Decoded::Task)
                .or_else(|| EvidenceEvent::from_view(v).map(Decoded::Evidence)),
        };
        d.unwrap_or(Decoded::Other)
    }
}
