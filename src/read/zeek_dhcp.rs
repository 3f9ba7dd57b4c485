//! Zeek `dhcp.log`, TSV or JSON: which address a host was given, when, and for how long.
//!
//! Two layouts are read, told apart by their fields:
//!
//! - **Modern** (Zeek 3.0 and later, `base/protocols/dhcp/main.zeek`): one record per DHCP
//!   transaction: `ts uids client_addr server_addr mac host_name client_fqdn domain
//!   requested_addr assigned_addr lease_time client_message server_message msg_types
//!   duration` (policy scripts may add more; they are ignored). `host_name` is the client's
//!   option 12, `client_fqdn` its option 81, `domain` the server's option 15.
//! - **Legacy** (Zeek 2.x): one record per `DHCPACK`: `ts uid id.orig_h id.orig_p id.resp_h
//!   id.resp_p mac assigned_ip lease_time trans_id`. It names no host, so it gives address ↔
//!   MAC leases only.
//!
//! Records borrow from the reader's line buffer, as the other Zeek readers' do, and bad lines
//! are skipped and counted with their line and reason:
//!
//! ```text
//!   io::Read ──▶ DhcpLogReader (Zeek TSV or JSON reader) ──▶ DhcpRecord<'record> (Copy, borrowed)
//! ```

use super::num::{parse_count, parse_ts_secs};
use super::zeek_log::{ColIndex, LogSchema, Val, ZeekList, ZeekLog, interval_field, json_field, tsv_fields};
use super::{Format, ZeekJsonRecord, ZeekRecord};
use crate::error::{Error, Result};
use crate::input::{Bad, ReadOptions, ReadStats, SkipReason};
use crate::time::{Interval, Timestamp};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Which `dhcp.log` layout a record comes from (see the module docs).
///
/// # Example
/// ```
/// use beaconstat::read::{DhcpLayout, DhcpLogReader};
/// let log = "#path\tdhcp\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tmac\tassigned_ip\tlease_time\ttrans_id\n\
///            1.0\tC1\t10.0.0.7\t10.0.0.1\taa:bb:cc:dd:ee:ff\t10.0.0.7\t3600.0\t42\n";
/// let mut r = DhcpLogReader::from_reader(log.as_bytes())?;
/// assert_eq!(r.next_record()?.map(|d| d.layout), Some(DhcpLayout::Legacy));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum DhcpLayout {
    /// Zeek 3.0 and later: one record per transaction, with host names and message types.
    Modern,
    /// Zeek 2.x: one record per `DHCPACK`, no host names.
    Legacy,
}

/// A `dhcp.log` record, with the legacy layout's fields under their modern names
/// (`id.orig_h` → `client_addr`, `id.resp_h` → `server_addr`, `assigned_ip` →
/// `assigned_addr`, `uid` → `uids`).
///
/// # Example
/// ```
/// use beaconstat::read::DhcpLogReader;
/// let log = r#"{"ts":1700000000.5,"uids":["CmA1"],"client_addr":"10.1.2.30","server_addr":"10.1.2.1","mac":"00:50:56:aa:bb:cc","host_name":"WS07","domain":"corp.example","assigned_addr":"10.1.2.30","lease_time":86400.0,"msg_types":["REQUEST","ACK"],"duration":0.01}"#;
/// let mut r = DhcpLogReader::from_reader(log.as_bytes())?;
/// let d = r.next_record()?.unwrap();
/// assert_eq!((d.name(), d.mac, d.leased_addr()), (Some("WS07"), Some("00:50:56:aa:bb:cc"), Some("10.1.2.30")));
/// assert_eq!(d.lease_time.map(|t| t.as_secs_f64()), Some(86400.0));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DhcpRecord<'a> {
    /// Which layout.
    pub layout: DhcpLayout,
    /// The first message of the transaction (legacy: the `DHCPACK`).
    pub ts: Timestamp,
    /// The line the record is on (1-based).
    pub line: u64,
    /// Zeek's connection ids (legacy: the one `uid`).
    pub uids: ZeekList<'a>,
    /// The client's address, where it sent from one (legacy: `id.orig_h`).
    pub client_addr: Option<&'a str>,
    /// The server that handed out the lease (legacy: `id.resp_h`).
    pub server_addr: Option<&'a str>,
    /// The client's hardware address.
    pub mac: Option<&'a str>,
    /// The name the client gave (option 12).
    pub host_name: Option<&'a str>,
    /// The FQDN the client gave (option 81).
    pub client_fqdn: Option<&'a str>,
    /// The domain the server gave (option 15).
    pub domain: Option<&'a str>,
    /// The address the client asked for.
    pub requested_addr: Option<&'a str>,
    /// The address the server assigned (legacy: `assigned_ip`).
    pub assigned_addr: Option<&'a str>,
    /// How long the lease is for (`0` in some legacy logs: not known).
    pub lease_time: Option<Interval>,
    /// The client's message (with a `DHCPDECLINE`).
    pub client_message: Option<&'a str>,
    /// The server's message (with a `DHCPNAK`).
    pub server_message: Option<&'a str>,
    /// The message types of the transaction (`DISCOVER`, `OFFER`, `REQUEST`, `ACK`, …; empty
    /// in the legacy layout, whose every record is an `ACK`).
    pub msg_types: ZeekList<'a>,
    /// From the first message to the last.
    pub duration: Option<Interval>,
    /// The transaction id (legacy layout only).
    pub trans_id: Option<u64>,
}

impl<'a> DhcpRecord<'a> {
    /// The host's name as the client gave it: its FQDN (option 81), else its host name
    /// (option 12); `None` in the legacy layout.
    pub fn name(&self) -> Option<&'a str> {
        self.client_fqdn.or(self.host_name)
    }

    /// The address the record leases: `assigned_addr` when the server acknowledged it (an
    /// `ACK` among the message types; every legacy record; a modern record that logs no
    /// message types). `None` for a transaction that leased nothing (a `DISCOVER`/`OFFER`
    /// only, a `NAK`, an `INFORM`).
    ///
    /// # Example
    /// ```
    /// use beaconstat::read::DhcpLogReader;
    /// let log = concat!(
    ///     r#"{"ts":1.0,"mac":"aa:bb:cc:dd:ee:01","assigned_addr":"10.0.0.9","msg_types":["DISCOVER","OFFER"]}"#, "\n",
    ///     r#"{"ts":2.0,"mac":"aa:bb:cc:dd:ee:01","assigned_addr":"10.0.0.9","msg_types":["REQUEST","ACK"]}"#, "\n",
    /// );
    /// let mut r = DhcpLogReader::from_reader(log.as_bytes())?;
    /// let mut got = Vec::new();
    /// r.for_each(|d| got.push(d.leased_addr().map(str::to_owned)))?;
    /// assert_eq!(got, [None, Some("10.0.0.9".to_owned())]);
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn leased_addr(&self) -> Option<&'a str> {
        let acked = self.layout == DhcpLayout::Legacy || self.msg_types.is_empty() || self.msg_types.contains("ACK");
        self.assigned_addr.filter(|_| acked)
    }

    /// Whether the client gave its address back (`RELEASE`): the lease of `client_addr`
    /// ends at `ts`.
    pub fn is_release(&self) -> bool {
        self.msg_types.contains("RELEASE")
    }
}

/// The fields read, in slot order.
const FIELDS: [&str; 20] = [
    "ts",
    "uids",
    "client_addr",
    "server_addr",
    "mac",
    "host_name",
    "client_fqdn",
    "domain",
    "requested_addr",
    "assigned_addr",
    "lease_time",
    "client_message",
    "server_message",
    "msg_types",
    "duration",
    "uid",
    "id.orig_h",
    "id.resp_h",
    "assigned_ip",
    "trans_id",
];
const TS: usize = 0;
const UIDS: usize = 1;
const CLIENT: usize = 2;
const SERVER: usize = 3;
const MAC: usize = 4;
const HOST_NAME: usize = 5;
const FQDN: usize = 6;
const DOMAIN: usize = 7;
const REQUESTED: usize = 8;
const ASSIGNED: usize = 9;
const LEASE: usize = 10;
const CLIENT_MSG: usize = 11;
const SERVER_MSG: usize = 12;
const MSG_TYPES: usize = 13;
const DURATION: usize = 14;
const UID: usize = 15;
const ORIG_H: usize = 16;
const RESP_H: usize = 17;
const ASSIGNED_IP: usize = 18;
const TRANS_ID: usize = 19;

/// Column indices cached per TSV header block, and which layout (if any) the block is.
#[derive(Debug, Clone, Default)]
struct Cols {
    cols: ColIndex<{ FIELDS.len() }>,
    layout: Option<DhcpLayout>,
}

/// The layout a set of fields is: legacy with `assigned_ip` (or `trans_id`), modern with
/// `assigned_addr`, `msg_types` or `uids`; `None` when it is no DHCP log (another `#path`).
fn layout_of(path: Option<&str>, has: impl Fn(usize) -> bool) -> Option<DhcpLayout> {
    if path.is_some_and(|p| p != "dhcp") {
        return None;
    }
    if has(ASSIGNED_IP) || has(TRANS_ID) {
        Some(DhcpLayout::Legacy)
    } else if has(ASSIGNED) || has(MSG_TYPES) || has(UIDS) || path.is_some() {
        Some(DhcpLayout::Modern)
    } else {
        None
    }
}

/// The `dhcp.log` [`LogSchema`].
#[derive(Debug)]
struct Dhcp;

/// Builds a record from field accessors shared by TSV and JSON.
fn build<'a>(
    layout: Option<DhcpLayout>,
    line: u64,
    get: impl Fn(usize) -> Val<'a>,
    lists: (ZeekList<'a>, ZeekList<'a>),
) -> core::result::Result<DhcpRecord<'a>, Bad> {
    let opt = |i: usize| get(i).map_err(|r| Bad::field(SkipReason::BadUtf8, FIELDS[i], r));
    let Some(layout) = layout else {
        return Err(Bad::field(
            SkipReason::MissingField,
            "assigned_addr|assigned_ip|msg_types",
            None,
        ));
    };
    let ts_text = opt(TS)?.ok_or_else(|| Bad::field(SkipReason::MissingField, "ts", None))?;
    let ts = parse_ts_secs(ts_text.as_bytes()).ok_or_else(|| Bad::field(SkipReason::BadTimestamp, "ts", None))?;
    let legacy = layout == DhcpLayout::Legacy;
    // The legacy layout's fields under their modern names.
    let pick = |modern: usize, old: usize| if legacy { opt(old) } else { opt(modern) };
    let trans_id = opt(TRANS_ID)?
        .map(|t| parse_count(t.as_bytes()).ok_or_else(|| Bad::field(SkipReason::BadNumber, "trans_id", None)))
        .transpose()?;
    let (uids, msg_types) = lists;
    Ok(DhcpRecord {
        layout,
        ts,
        line,
        uids,
        client_addr: pick(CLIENT, ORIG_H)?,
        server_addr: pick(SERVER, RESP_H)?,
        mac: opt(MAC)?,
        host_name: opt(HOST_NAME)?,
        client_fqdn: opt(FQDN)?,
        domain: opt(DOMAIN)?,
        requested_addr: opt(REQUESTED)?,
        assigned_addr: pick(ASSIGNED, ASSIGNED_IP)?,
        lease_time: interval_field(opt(LEASE)?, "lease_time")?,
        client_message: opt(CLIENT_MSG)?,
        server_message: opt(SERVER_MSG)?,
        msg_types,
        duration: interval_field(opt(DURATION)?, "duration")?,
        trans_id,
    })
}

impl LogSchema for Dhcp {
    type Cols = Cols;
    type Record<'a> = DhcpRecord<'a>;

    fn refresh(cols: &mut Cols, rec: &ZeekRecord) {
        match cols.cols.refresh(rec, &FIELDS) {
            Some(h) => {
                let idx = cols.cols.idx;
                cols.layout = layout_of(h.path(), |i| idx[i].is_some());
            }
            None if rec.header().is_none() => cols.layout = None,
            None => {}
        }
    }

    fn tsv<'a>(rec: &'a ZeekRecord, cols: &Cols) -> core::result::Result<DhcpRecord<'a>, Bad> {
        let get = tsv_fields(rec, &cols.cols)?;
        let sep = cols.cols.sep;
        let uid = if cols.layout == Some(DhcpLayout::Legacy) {
            UID
        } else {
            UIDS
        };
        let lists = (
            ZeekList::tsv(get(uid).ok().flatten(), sep),
            ZeekList::tsv(get(MSG_TYPES).ok().flatten(), sep),
        );
        build(cols.layout, rec.position().line, get, lists)
    }

    fn json(rec: &ZeekJsonRecord) -> core::result::Result<DhcpRecord<'_>, Bad> {
        if let Some(bad) = rec.scan_error() {
            return Err(bad.clone());
        }
        let path = rec.field("_path");
        let layout = layout_of(path, |i| rec.raw_value(FIELDS[i]).is_some());
        let uid = if layout == Some(DhcpLayout::Legacy) {
            "uid"
        } else {
            "uids"
        };
        let lists = (
            ZeekList::json(rec.raw_value(uid)),
            ZeekList::json(rec.raw_value("msg_types")),
        );
        build(layout, rec.position().line, |i| json_field(rec, FIELDS[i]), lists)
    }
}

/// Reads Zeek `dhcp.log` files (TSV or JSON, plain or gzip; the modern and the legacy layout)
/// into borrowed [`DhcpRecord`]s, skipping and counting bad records like the connection
/// readers (a record of another log is skipped as [`SkipReason::MissingField`]).
///
/// Drive it with [`for_each`](DhcpLogReader::for_each) (each record parsed once) or
/// [`next_record`](DhcpLogReader::next_record).
///
/// # Example
/// ```
/// use beaconstat::read::DhcpLogReader;
/// let log = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdhcp\n\
///            #fields\tts\tuids\tclient_addr\tserver_addr\tmac\thost_name\tclient_fqdn\tdomain\trequested_addr\tassigned_addr\tlease_time\tclient_message\tserver_message\tmsg_types\tduration\n\
///            1700000000.0\tC1,C2\t-\t10.0.0.1\t00:11:22:33:44:55\tws01\tws01.corp.example\tcorp.example\t10.0.0.20\t10.0.0.20\t3600.000000\t-\t-\tDISCOVER,OFFER,REQUEST,ACK\t0.2\n\
///            yesterday\tC3\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n";
/// let mut r = DhcpLogReader::from_reader(log.as_bytes())?;
/// let mut leases = Vec::new();
/// r.for_each(|d| leases.push(format!("{:?} {:?} {:?}", d.leased_addr(), d.name(), d.lease_time.map(|t| t.as_secs_f64()))))?;
/// assert_eq!(leases, [r#"Some("10.0.0.20") Some("ws01.corp.example") Some(3600.0)"#]);
/// let st = r.stats();
/// assert_eq!((st.records, st.events, st.skipped), (2, 1, 1));
/// assert_eq!(st.skipped_samples[0].position.line, 8);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct DhcpLogReader<R: Read = File> {
    log: ZeekLog<R, Dhcp>,
}

super::zeek_log::log_reader_api!(DhcpLogReader, DhcpRecord, "a Zeek `dhcp` log");

#[cfg(test)]
mod tests {
    use super::*;

    const MODERN: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdhcp\n\
#fields\tts\tuids\tclient_addr\tserver_addr\tmac\thost_name\tclient_fqdn\tdomain\trequested_addr\tassigned_addr\tlease_time\tclient_message\tserver_message\tmsg_types\tduration\n\
#types\ttime\tset[string]\taddr\taddr\tstring\tstring\tstring\tstring\taddr\taddr\tinterval\tstring\tstring\tvector[string]\tinterval\n\
1600000000.000000\tCa,Cb\t192.168.1.50\t192.168.1.1\t3c:22:fb:01:02:03\tLAPTOP-7\t-\tlan\t-\t192.168.1.50\t86400.000000\t-\t-\tREQUEST,ACK\t0.004\n\
1600000100.000000\tCc\t-\t-\t3c:22:fb:01:02:04\tphone\t-\t-\t-\t-\t-\t-\t-\tDISCOVER\t0.000000\n\
1600000200.000000\tCd\t192.168.1.50\t-\t3c:22:fb:01:02:03\t-\t-\t-\t-\t-\t-\t-\t-\tRELEASE\t0.000000\n\
1600000300.000000\tCe\t-\t-\t-\t-\t-\t-\t-\t192.168.1.51\tlong\t-\t-\tACK\t0\n\
1600000400.000000\tCf\n";

    #[test]
    fn modern_tsv_fields_leases_releases_and_skips() {
        let mut r = DhcpLogReader::from_reader(MODERN.as_bytes()).unwrap();
        let mut got = Vec::new();
        r.for_each(|d| {
            assert_eq!(d.layout, DhcpLayout::Modern);
            got.push(format!(
                "{} {:?} {:?} {:?} {:?} {} {}",
                d.line,
                d.leased_addr(),
                d.name(),
                d.mac,
                d.lease_time.map(|t| t.as_secs_f64()),
                d.uids.iter().collect::<Vec<_>>().join("+"),
                d.is_release()
            ))
        })
        .unwrap();
        assert_eq!(
            got,
            [
                r#"8 Some("192.168.1.50") Some("LAPTOP-7") Some("3c:22:fb:01:02:03") Some(86400.0) Ca+Cb false"#,
                r#"9 None Some("phone") Some("3c:22:fb:01:02:04") None Cc false"#,
                r#"10 None None Some("3c:22:fb:01:02:03") None Cd true"#,
            ]
        );
        let st = r.stats();
        assert_eq!((st.records, st.events, st.skipped), (5, 3, 2));
        assert_eq!(st.skipped_samples[0].reason, SkipReason::BadNumber);
        assert_eq!(st.skipped_samples[0].field.as_deref(), Some("lease_time"));
        assert_eq!(st.skipped_samples[0].position.line, 11);
        assert_eq!(st.skipped_samples[1].reason, SkipReason::FieldCount);
        assert_eq!(st.skipped_samples[1].position.line, 12);
    }

    #[test]
    fn strict_mode_fails_on_the_first_bad_line() {
        let mut r = DhcpLogReader::with_options(MODERN.as_bytes(), ReadOptions::new().strict(true)).unwrap();
        for _ in 0..3 {
            assert!(r.next_record().unwrap().is_some());
        }
        let e = r.next_record().unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(11));
    }

    #[test]
    fn json_both_layouts_and_other_logs() {
        let log = concat!(
            r#"{"_path":"dhcp","ts":"2024-03-01T10:00:00.000000Z","uids":["C1"],"client_addr":"10.0.0.5","mac":"aa:aa:aa:aa:aa:01","client_fqdn":"ws05.corp.example","assigned_addr":"10.0.0.5","lease_time":600.0,"msg_types":["REQUEST","ACK"],"duration":0.1}"#,
            "\n",
            r#"{"ts":1610645141.523272,"uid":"C35eXU203XxSNS5h53","id.orig_h":"192.168.0.15","id.orig_p":68,"id.resp_h":"192.168.0.1","id.resp_p":67,"mac":"f4:8e:38:8b:b6:03","assigned_ip":"192.168.0.15","lease_time":0.0,"trans_id":39335247}"#,
            "\n",
            r#"{"_path":"conn","ts":3.0,"id.orig_h":"10.0.0.5","id.resp_h":"10.0.0.8"}"#,
            "\n",
            r#"{"ts":4.0,"assigned_addr":"10.0.0.6","lease_time":-5}"#,
            "\n",
            "{\"ts\":5.0,\n",
        );
        let mut r = DhcpLogReader::from_reader(log.as_bytes()).unwrap();
        assert_eq!(r.format(), Format::ZeekJson);
        let mut got = Vec::new();
        r.for_each(|d| {
            got.push(format!(
                "{:?} {} {:?} {:?} {:?} {:?} {:?} {:?}",
                d.layout,
                d.ts.as_micros(),
                d.leased_addr(),
                d.name(),
                d.client_addr,
                d.server_addr,
                d.trans_id,
                d.uids.iter().next()
            ))
        })
        .unwrap();
        assert_eq!(
            got,
            [
                r#"Modern 1709287200000000 Some("10.0.0.5") Some("ws05.corp.example") Some("10.0.0.5") None None Some("C1")"#,
                r#"Legacy 1610645141523272 Some("192.168.0.15") None Some("192.168.0.15") Some("192.168.0.1") Some(39335247) Some("C35eXU203XxSNS5h53")"#,
            ]
        );
        let st = r.stats();
        assert_eq!((st.records, st.events, st.skipped), (5, 2, 3));
        assert_eq!(st.by_reason.get(&SkipReason::MissingField), Some(&1));
        assert_eq!(st.by_reason.get(&SkipReason::BadNumber), Some(&1));
        assert_eq!(st.by_reason.get(&SkipReason::BadJson), Some(&1));
    }

    #[test]
    fn junk_is_a_format_error_and_empty_input_has_no_records() {
        assert!(DhcpLogReader::from_reader(&b"\x00\x01\x02"[..]).is_err());
        let mut r = DhcpLogReader::from_reader(&b""[..]).unwrap();
        assert!(r.next_record().unwrap().is_none());
    }
}
