//! Sysmon event 3 (network connection) → [`ConnEvent`].

use super::known::Name;
use super::record::RecordView;
use super::record::{WinRecord, parse_pid};
use crate::event::{ConnEvent, ProcessRef, Proto};
use crate::time::Timestamp;

/// Turns a Sysmon event 3 (network connection) into a borrowed [`ConnEvent`].
///
/// `ts` is Sysmon's `UtcTime` (falling back to `TimeCreated`); `src`/`dst` are `SourceIp` /
/// `DestinationIp`; `name` is `DestinationHostname`; `host` the computer; `user` the `User`;
/// the process is `Image`, `ProcessGuid`, `ProcessId`. Returns `None` for any other event or
/// when a required field (time, addresses) is missing.
///
/// # Example
/// ```
/// use beaconstat::{winevent::{WinRecord, sysmon_conn_event}};
/// let mut rec = WinRecord::new();
/// rec.parse_str(r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS5",
///   "UtcTime":"2020-07-22 04:00:51.123","Image":"C:\\p.exe","ProcessId":"3580",
///   "SourceIp":"172.18.39.5","SourcePort":"50000","DestinationIp":"10.10.10.5",
///   "DestinationPort":"80","Protocol":"tcp"}"#)?;
/// let c = sysmon_conn_event(&rec).unwrap();
/// assert_eq!((c.src, c.dst, c.dst_port), ("172.18.39.5", "10.10.10.5", Some(80)));
/// assert_eq!(c.process.unwrap().pid, Some(3580));
/// # Ok::<(), beaconstat::Error>(())
/// ```
pub fn sysmon_conn_event(rec: &WinRecord) -> Option<ConnEvent<'_>> {
    sysmon_conn_from_view(&RecordView::new(rec))
}

/// [`sysmon_conn_event`] of a record whose times may be decoded already.
pub(crate) fn sysmon_conn_from_view<'r>(v: &RecordView<'r>) -> Option<ConnEvent<'r>> {
    let rec = v.rec;
    if rec.event_id() != Some(3) || !rec.is_sysmon() {
        return None;
    }
    let ts = v.timestamp()?;
    let ends = [Name::SourceIp, Name::DestinationIp, Name::DestinationPort];
    let c = conn_event(rec, ts, ends, Name::Image, Some(Name::ProcessGuid))?;
    let c = match rec.field_opt(Name::DestinationHostname) {
        Some(n) => c.with_name(n),
        None => c,
    };
    Some(match rec.field_opt(Name::User) {
        Some(u) => c.with_user(u),
        None => c,
    })
}

/// The connection `rec` logs at `ts` (Sysmon 3, Security 5156), its fields named by the
/// record's kind: `[src, dst, dst_port]` the source and destination addresses (`None` without
/// both) and the destination port (the source port is `SourcePort`), `image` and `guid` the
/// process's (its PID is `ProcessId`); the protocol and the host where logged.
pub(crate) fn conn_event<'r>(
    rec: &'r WinRecord,
    ts: Timestamp,
    [src, dst, dst_port]: [Name; 3],
    image: Name,
    guid: Option<Name>,
) -> Option<ConnEvent<'r>> {
    let src = rec.field_opt(src)?;
    let dst = rec.field_opt(dst)?;
    let mut c = ConnEvent::new(ts, src, dst);
    if let Some(p) = rec.field(Name::SourcePort).and_then(|p| p.parse().ok()) {
        c = c.with_src_port(p);
    }
    if let Some(p) = rec.field(dst_port).and_then(|p| p.parse().ok()) {
        c = c.with_dst_port(p);
    }
    if let Some(p) = rec.field_opt(Name::Protocol) {
        c = c.with_proto(Proto::parse(p));
    }
    if let Some(h) = rec.computer() {
        c = c.with_host(h);
    }
    let mut p = ProcessRef::new();
    if let Some(i) = rec.field_opt(image) {
        p = p.with_image(i);
    }
    if let Some(g) = guid.and_then(|g| rec.field_opt(g)) {
        p = p.with_guid(g);
    }
    if let Some(pid) = rec.field(Name::ProcessId).and_then(parse_pid) {
        p = p.with_pid(pid);
    }
    if p != ProcessRef::new() {
        c = c.with_process(p);
    }
    Some(c)
}
