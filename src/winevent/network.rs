//! Network events with process identity beyond Sysmon 3: Security 5156 (Windows Filtering
//! Platform connections) as [`ConnEvent`]s, and Sysmon 22 (DNS query by a process) as
//! [`DnsQueryEvent`]s, which name the addresses a process then connects to.

use super::known::Name;
use super::record::RecordView;
use super::record::{WinRecord, parse_pid};
use super::sysmon::conn_event;
use crate::event::{ConnEvent, ProcessRef};
use crate::time::Timestamp;

/// Turns a Security 5156 record (the Windows Filtering Platform permitted a connection) into a
/// borrowed [`ConnEvent`], for outbound connections only.
///
/// `ts` is `TimeCreated`; `src`/`dst` are `SourceAddress` / `DestAddress` with their ports;
/// the process is `Application` (a device path such as
/// `\device\harddiskvolume2\windows\system32\...\powershell.exe`) and `ProcessId`; `host` is
/// the computer. Inbound connections (`Direction` `%%14592`, a listening service accepting)
/// and records without addresses give `None`: AN1113 asks what a host sends out.
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::winevent::wfp_conn_event;
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":5156,"Channel":"Security","Hostname":"WS5","@timestamp":"2020-07-22T04:00:49.786Z",
///   "Direction":"%%14593","SourceAddress":"172.18.39.5","SourcePort":"50783","DestAddress":"10.10.10.5",
///   "DestPort":"80","Protocol":"6","ProcessId":"9076",
///   "Application":"\\device\\harddiskvolume2\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe"}"#)?;
/// let c = wfp_conn_event(&rec).unwrap();
/// assert_eq!((c.src, c.dst, c.dst_port), ("172.18.39.5", "10.10.10.5", Some(80)));
/// assert_eq!(c.process.unwrap().image_name(), Some("powershell.exe"));
/// assert_eq!(c.process.unwrap().pid, Some(9076));
/// # Ok::<(), beaconstat::Error>(())
/// ```
pub fn wfp_conn_event(rec: &WinRecord) -> Option<ConnEvent<'_>> {
    wfp_conn_from_view(&RecordView::new(rec))
}

/// [`wfp_conn_event`] of a record whose times may be decoded already.
pub(crate) fn wfp_conn_from_view<'r>(v: &RecordView<'r>) -> Option<ConnEvent<'r>> {
    let rec = v.rec;
    if rec.event_id() != Some(5156) || !rec.is_security() {
        return None;
    }
    if rec.field_opt(Name::Direction).is_some_and(is_inbound) {
        return None;
    }
    let ts = v.time_created()?;
    let ends = [Name::SourceAddress, Name::DestAddress, Name::DestPort];
    conn_event(rec, ts, ends, Name::Application, None)
}

/// 5156 `Direction`: `%%14592` (or the rendered word) is inbound.
fn is_inbound(d: &str) -> bool {
    d == "%%14592" || d.eq_ignore_ascii_case("inbound")
}

/// A DNS query made by a process (Sysmon 22), borrowed from its record.
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::winevent::DnsQueryEvent;
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1",
///   "UtcTime":"2024-01-01 10:00:00.000","ProcessGuid":"{a}","ProcessId":"42","Image":"C:\\p.exe",
///   "QueryName":"c2.example.net","QueryStatus":"0","QueryResults":"type:  5 edge.example.net;::ffff:203.0.113.9;198.51.100.7;"}"#)?;
/// let q = DnsQueryEvent::from_record(&rec).unwrap();
/// assert_eq!(q.query_name, "c2.example.net");
/// assert_eq!(q.addresses().collect::<Vec<_>>(), ["203.0.113.9", "198.51.100.7"]);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsQueryEvent<'a> {
    /// When (Sysmon `UtcTime`).
    pub ts: Timestamp,
    /// The computer.
    pub host: &'a str,
    /// The querying process.
    pub process: ProcessRef<'a>,
    /// `QueryName`.
    pub query_name: &'a str,
    /// `QueryStatus` (0 = success).
    pub status: Option<u32>,
    /// `QueryResults` as logged (`type: 5 alias;::ffff:1.2.3.4;…`).
    pub results: Option<&'a str>,
}

impl<'a> DnsQueryEvent<'a> {
    /// Builds one from a Sysmon 22 record; `None` otherwise.
    pub fn from_record(rec: &'a WinRecord) -> Option<DnsQueryEvent<'a>> {
        Self::from_view(&RecordView::new(rec))
    }

    /// [`DnsQueryEvent::from_record`] of a record whose times may be decoded already.
    pub(crate) fn from_view(v: &RecordView<'a>) -> Option<DnsQueryEvent<'a>> {
        let rec = v.rec;
        if rec.event_id() != Some(22) || !rec.is_sysmon() {
            return None;
        }
        let mut process = ProcessRef::new();
        if let Some(i) = rec.field_opt(Name::Image) {
            process = process.with_image(i);
        }
        if let Some(g) = rec.field_opt(Name::ProcessGuid) {
            process = process.with_guid(g);
        }
        if let Some(p) = rec.field(Name::ProcessId).and_then(parse_pid) {
            process = process.with_pid(p);
        }
        Some(DnsQueryEvent {
            ts: v.timestamp()?,
            host: rec.computer()?,
            process,
            query_name: rec.field_opt(Name::QueryName)?,
            status: rec.field(Name::QueryStatus).and_then(|s| s.trim().parse().ok()),
            results: rec.field_opt(Name::QueryResults),
        })
    }

    /// The addresses answered (IPv4-mapped IPv6 written as IPv4; CNAME entries skipped).
    pub fn addresses(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.results
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.starts_with("type:"))
            .map(|s| s.strip_prefix("::ffff:").unwrap_or(s))
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_and_non_5156_are_not_connections() {
        let mut rec = WinRecord::new();
        rec.parse_str(
            r#"{"EventID":5156,"Channel":"Security","Hostname":"H","@timestamp":"2020-07-22T04:00:49Z",
            "Direction":"%%14592","SourceAddress":"10.0.0.1","DestAddress":"10.0.0.2","DestPort":"445"}"#,
        )
        .unwrap();
        assert!(wfp_conn_event(&rec).is_none());
        rec.parse_str(r#"{"EventID":5158,"Channel":"Security","Hostname":"H","@timestamp":"2020-07-22T04:00:49Z"}"#)
            .unwrap();
        assert!(wfp_conn_event(&rec).is_none());
        rec.parse_str(
            r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"H",
            "UtcTime":"2024-01-01 10:00:00.000","QueryName":"x.example","QueryResults":"-"}"#,
        )
        .unwrap();
        let q = DnsQueryEvent::from_record(&rec).unwrap();
        assert_eq!(q.addresses().count(), 0);
    }
}
