//! [`Decoded`]: what a record is, decoded once for lineage and the AN1113 join together (one
//! decoder chosen by event id over the record's [`RecordView`]).

use super::decode::{EvidenceEvent, ProcessEvent, TaskEvent};
use super::network::{DnsQueryEvent, wfp_conn_from_view};
use super::process_exit::ProcessExitEvent;
use super::record::{RecordView, WinRecord};
use super::sysmon::sysmon_conn_from_view;
use crate::event::ConnEvent;

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

/// A record with what lineage and the AN1113 join ask of it first: its view (times, record
/// id), its event decoded, and the computer and channel that name where it was logged.
#[derive(Debug)]
pub(crate) struct Prepared<'r> {
    pub(crate) view: RecordView<'r>,
    pub(crate) decoded: Decoded<'r>,
    pub(crate) computer: Option<&'r str>,
    pub(crate) channel: Option<&'r str>,
}

impl<'r> Prepared<'r> {
    /// `rec` decoded, its times parsed when first asked for.
    pub(crate) fn new(rec: &'r WinRecord) -> Self {
        let view = RecordView::new(rec);
        let decoded = Decoded::of(&view);
        Prepared {
            view,
            decoded,
            computer: rec.computer(),
            channel: rec.channel(),
        }
    }

    /// The record.
    pub(crate) fn rec(&self) -> &'r WinRecord {
        self.view.rec
    }
}
