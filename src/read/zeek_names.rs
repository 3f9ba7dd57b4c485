//! Zeek `dns.log`, `ssl.log` and `http.log`, TSV or JSON: the names behind connections.
//!
//! Built on the connection readers' machinery ([`ZeekReader`]/[`ZeekRecord`] and
//! [`ZeekJsonReader`]/[`ZeekJsonRecord`]): the same header handling, gzip detection, line limits
//! and skip accounting. Records borrow from the reader's line buffer, as events do:
//!
//! ```text
//!   io::Read ──▶ NameLogReader (Zeek TSV or JSON reader) ──▶ NameRecord<'record>
//!                                                            Dns | Ssl | Http (Copy, borrowed)
//! ```
//!
//! The kind of each record comes from the block's `#path` (`dns`, `ssl`, `http`), a JSON
//! `_path` key, or else the fields present (`query` → DNS, `server_name`/`cipher` → TLS,
//! `method`/`host`/`uri` → HTTP). Records of other logs are skipped and counted.

use super::num::parse_duration;
use super::num::parse_port;
use super::num::parse_ts_secs;
use super::zeek_log::{ColIndex, LogSchema, Val, ZeekList, ZeekListIter, ZeekLog, json_field, tsv_fields};
use super::{Format, ZeekJsonRecord, ZeekRecord};
use crate::error::{Error, Result};
use crate::input::{Bad, ReadOptions, ReadStats, SkipReason};
use crate::time::{Interval, Timestamp};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Which Zeek log a record comes from.
///
/// # Example
/// ```
/// use beaconstat::read::LogKind;
/// assert_eq!(LogKind::from_path("dns"), Some(LogKind::Dns));
/// assert_eq!(LogKind::Http.as_str(), "http");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum LogKind {
    /// `dns.log`: queries and answers.
    Dns,
    /// `ssl.log`: TLS handshakes (`server_name` is the SNI).
    Ssl,
    /// `http.log`: HTTP requests (`host`, `method`, `uri`; proxy `CONNECT`s).
    Http,
}

impl LogKind {
    /// The kind for a Zeek `#path` value (`dns`, `ssl`, `http`; `None` for other logs).
    pub fn from_path(path: &str) -> Option<LogKind> {
        match path {
            "dns" => Some(LogKind::Dns),
            "ssl" => Some(LogKind::Ssl),
            "http" => Some(LogKind::Http),
            _ => None,
        }
    }
    /// The Zeek log name (`dns`, `ssl`, `http`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Dns => "dns",
            LogKind::Ssl => "ssl",
            LogKind::Http => "http",
        }
    }
}

/// The answers of a DNS record with their TTLs, borrowed from the line. Iterate with
/// [`Answers::iter`]; nothing is split or allocated until then.
///
/// # Example
/// ```
/// use beaconstat::{read::{NameLogReader, NameRecord}};
/// let log = "#separator \\x09\n#set_separator\t,\n#path\tdns\n\
///            #fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\tTTLs\n\
///            10.0\tC1\t10.0.0.5\t10.0.0.53\tcdn.example.com\tedge.example.net,192.0.2.7\t60.000000,30.000000\n";
/// let mut r = NameLogReader::from_reader(log.as_bytes())?;
/// let Some(NameRecord::Dns(d)) = r.next_record()? else { panic!("a DNS record") };
/// let got: Vec<_> = d.answers.iter().map(|a| (a.value, a.ttl.map(|t| t.as_secs_f64()))).collect();
/// assert_eq!(got, [("edge.example.net", Some(60.0)), ("192.0.2.7", Some(30.0))]);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Answers<'a> {
    answers: ZeekList<'a>,
    ttls: ZeekList<'a>,
}

impl<'a> Answers<'a> {
    /// The answers in order, each with its TTL where the log has one.
    pub fn iter(&self) -> AnswerIter<'a> {
        AnswerIter {
            answers: self.answers.iter(),
            ttls: self.ttls.iter(),
        }
    }
    /// Whether there are no answers.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// One DNS answer: an address, a name (CNAME, PTR) or other record text, and its TTL (see
/// [`Answers`] and [`Answer::is_address`] for examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer<'a> {
    /// The answer as logged (`192.0.2.7`, `edge.example.net`, `TXT 5 hello`).
    pub value: &'a str,
    /// Its time to live, if logged.
    pub ttl: Option<Interval>,
}

impl Answer<'_> {
    /// Whether the answer is an IPv4 or IPv6 address (what a connection's `id.resp_h` holds).
    ///
    /// # Example
    /// ```
    /// use beaconstat::{read::{NameLogReader, NameRecord}};
    /// let log = "#path\tdns\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tanswers\n1.0\ta\tb\tx.example\ty.example,2001:db8::7\n";
    /// let mut r = NameLogReader::from_reader(log.as_bytes())?;
    /// let Some(NameRecord::Dns(d)) = r.next_record()? else { panic!("a DNS record") };
    /// let kinds: Vec<bool> = d.answers.iter().map(|a| a.is_address()).collect();
    /// assert_eq!(kinds, [false, true]);
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn is_address(&self) -> bool {
        self.value.parse::<std::net::IpAddr>().is_ok()
    }
}

/// Iterator over [`Answers`] (see there for an example).
#[derive(Debug, Clone)]
pub struct AnswerIter<'a> {
    answers: ZeekListIter<'a>,
    ttls: ZeekListIter<'a>,
}

impl<'a> Iterator for AnswerIter<'a> {
    type Item = Answer<'a>;
    fn next(&mut self) -> Option<Answer<'a>> {
        loop {
            // The TTLs are logged in step with the answers.
            let (value, ttl) = (self.answers.next()?, self.ttls.next());
            if value.is_empty() {
                continue;
            }
            let ttl = ttl.and_then(|t| parse_duration(t.as_bytes()));
            return Some(Answer { value, ttl });
        }
    }
}

/// A `dns.log` record.
///
/// # Example
/// ```
/// use beaconstat::{read::{NameLogReader, NameRecord}};
/// let log = r#"{"ts":5.0,"uid":"CD1","id.orig_h":"10.0.0.5","id.resp_h":"10.0.0.53","query":"c2.example.net","qtype_name":"A","rcode_name":"NOERROR","answers":["192.0.2.8"],"TTLs":[60.0]}"#;
/// let mut r = NameLogReader::from_reader(log.as_bytes())?;
/// let Some(NameRecord::Dns(d)) = r.next_record()? else { panic!("a DNS record") };
/// assert_eq!((d.src, d.query, d.qtype, d.rcode), ("10.0.0.5", "c2.example.net", Some("A"), Some("NOERROR")));
/// assert_eq!(d.answers.iter().next().map(|a| a.value), Some("192.0.2.8"));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsRecord<'a> {
    /// When the query was seen.
    pub ts: Timestamp,
    /// Zeek's connection id.
    pub uid: Option<&'a str>,
    /// Who asked (`id.orig_h`).
    pub src: &'a str,
    /// The resolver asked (`id.resp_h`).
    pub dst: &'a str,
    /// The name queried, as logged.
    pub query: &'a str,
    /// Query type (`A`, `AAAA`, `TXT`, …), if logged.
    pub qtype: Option<&'a str>,
    /// Response code name (`NOERROR`, `NXDOMAIN`), if logged.
    pub rcode: Option<&'a str>,
    /// Answers with TTLs.
    pub answers: Answers<'a>,
}

/// An `ssl.log` record.
///
/// # Example
/// ```
/// use beaconstat::{read::{NameLogReader, NameRecord}};
/// let log = "#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tserver_name\n7.5\tCS1\t10.0.0.5\t192.0.2.8\t443\tapi.example.org\n";
/// let mut r = NameLogReader::from_reader(log.as_bytes())?;
/// let Some(NameRecord::Ssl(s)) = r.next_record()? else { panic!("a TLS record") };
/// assert_eq!((s.uid, s.dst_port, s.server_name), (Some("CS1"), Some(443), Some("api.example.org")));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SslRecord<'a> {
    /// When the handshake was seen.
    pub ts: Timestamp,
    /// Zeek's connection id (the same as in `conn.log`).
    pub uid: Option<&'a str>,
    /// Client.
    pub src: &'a str,
    /// Server (or the proxy, for TLS inside a `CONNECT` tunnel).
    pub dst: &'a str,
    /// Server port.
    pub dst_port: Option<u16>,
    /// The SNI the client sent, if any.
    pub server_name: Option<&'a str>,
}

/// An `http.log` record.
///
/// # Example
/// ```
/// use beaconstat::{read::{NameLogReader, NameRecord}};
/// let log = "#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tmethod\thost\turi\tuser_agent\n1.0\tCH1\t10.0.0.5\t192.0.2.8\tGET\tsite.example\t/a\tcurl/8\n";
/// let mut r = NameLogReader::from_reader(log.as_bytes())?;
/// let Some(NameRecord::Http(h)) = r.next_record()? else { panic!("an HTTP record") };
/// assert_eq!((h.method, h.host, h.uri, h.user_agent), (Some("GET"), Some("site.example"), Some("/a"), Some("curl/8")));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpRecord<'a> {
    /// When the request was seen.
    pub ts: Timestamp,
    /// Zeek's connection id (the same as in `conn.log`).
    pub uid: Option<&'a str>,
    /// Client.
    pub src: &'a str,
    /// Server (or proxy).
    pub dst: &'a str,
    /// Server port.
    pub dst_port: Option<u16>,
    /// Request method (`GET`, `CONNECT`).
    pub method: Option<&'a str>,
    /// `Host` header.
    pub host: Option<&'a str>,
    /// Request target (`/path`, `http://host/path` to a proxy, `host:443` for `CONNECT`).
    pub uri: Option<&'a str>,
    /// `User-Agent` header.
    pub user_agent: Option<&'a str>,
}

impl<'a> HttpRecord<'a> {
    /// The host a proxy was asked to reach: the target of a `CONNECT host:port`, or the host of
    /// an absolute-URI request (`GET http://host/…`); `None` for an ordinary request.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{read::{NameLogReader, NameRecord}};
    /// let log = "#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tmethod\thost\turi\n\
    ///            1.0\tC1\t10.0.0.5\t10.0.0.8\t3128\tCONNECT\tc2.example.com\tc2.example.com:443\n\
    ///            2.0\tC2\t10.0.0.5\t10.0.0.8\t3128\tGET\tnews.example.org\thttp://news.example.org:8080/a\n\
    ///            3.0\tC3\t10.0.0.5\t192.0.2.1\t80\tGET\tsite.example\t/index.html\n";
    /// let mut r = NameLogReader::from_reader(log.as_bytes())?;
    /// let mut got = Vec::new();
    /// r.for_each(|rec| if let NameRecord::Http(h) = rec { got.push(h.proxy_target().map(str::to_owned)) })?;
    /// assert_eq!(got, [Some("c2.example.com".into()), Some("news.example.org".into()), None]);
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn proxy_target(&self) -> Option<&'a str> {
        let uri = self.uri?;
        if self.method.is_some_and(|m| m.eq_ignore_ascii_case("CONNECT")) {
            let t = strip_port(uri);
            return if t.is_empty() {
                self.host.map(strip_port)
            } else {
                Some(t)
            };
        }
        let rest = uri
            .strip_prefix("http://")
            .or_else(|| uri.strip_prefix("https://"))
            .or_else(|| uri.strip_prefix("HTTP://"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let host = strip_port(authority.rsplit('@').next().unwrap_or(authority));
        (!host.is_empty()).then_some(host)
    }
}

/// `host:port` → `host`; `[v6]:port` → `v6`; a bare IPv6 address is returned whole.
pub(crate) fn strip_port(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => s,
    }
}

/// One record of a `dns.log`, `ssl.log` or `http.log`.
///
/// # Example
/// ```
/// use beaconstat::{read::{LogKind, NameLogReader}};
/// let log = "#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tserver_name\n2.0\tC9\ta\tb\tx.example\n";
/// let mut r = NameLogReader::from_reader(log.as_bytes())?;
/// let rec = r.next_record()?.unwrap();
/// assert_eq!((rec.kind(), rec.uid(), rec.ts().as_micros()), (LogKind::Ssl, Some("C9"), 2_000_000));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameRecord<'a> {
    /// From `dns.log`.
    Dns(DnsRecord<'a>),
    /// From `ssl.log`.
    Ssl(SslRecord<'a>),
    /// From `http.log`.
    Http(HttpRecord<'a>),
}

impl<'a> NameRecord<'a> {
    /// Which log the record is from.
    pub fn kind(&self) -> LogKind {
        match self {
            NameRecord::Dns(_) => LogKind::Dns,
            NameRecord::Ssl(_) => LogKind::Ssl,
            NameRecord::Http(_) => LogKind::Http,
        }
    }
    /// When it was seen.
    pub fn ts(&self) -> Timestamp {
        match self {
            NameRecord::Dns(r) => r.ts,
            NameRecord::Ssl(r) => r.ts,
            NameRecord::Http(r) => r.ts,
        }
    }
    /// Zeek's connection id.
    pub fn uid(&self) -> Option<&'a str> {
        match self {
            NameRecord::Dns(r) => r.uid,
            NameRecord::Ssl(r) => r.uid,
            NameRecord::Http(r) => r.uid,
        }
    }
}

/// The fields read, in slot order.
const FIELDS: [&str; 15] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.resp_h",
    "id.resp_p",
    "query",
    "qtype_name",
    "rcode_name",
    "answers",
    "TTLs",
    "server_name",
    "method",
    "host",
    "uri",
    "user_agent",
];
const TS: usize = 0;
const UID: usize = 1;
const ORIG_H: usize = 2;
const RESP_H: usize = 3;
const RESP_P: usize = 4;
const QUERY: usize = 5;
const QTYPE: usize = 6;
const RCODE: usize = 7;
const ANSWERS: usize = 8;
const TTLS: usize = 9;
const SERVER_NAME: usize = 10;
const METHOD: usize = 11;
const HOST: usize = 12;
const URI: usize = 13;
const UA: usize = 14;

/// Column indices cached per TSV header block, and the log the block is.
#[derive(Debug, Clone, Default)]
struct Cols {
    cols: ColIndex<{ FIELDS.len() }>,
    kind: Option<LogKind>,
}

impl Cols {
    fn refresh(&mut self, rec: &ZeekRecord) {
        let Some(h) = self.cols.refresh(rec, &FIELDS) else {
            if rec.header().is_none() {
                self.kind = None;
            }
            return;
        };
        let idx = &self.cols.idx;
        self.kind = h.path().and_then(LogKind::from_path).or_else(|| {
            if idx[QUERY].is_some() {
                Some(LogKind::Dns)
            } else if idx[SERVER_NAME].is_some() || h.index("cipher").is_some() {
                Some(LogKind::Ssl)
            } else if idx[METHOD].is_some() || idx[URI].is_some() {
                Some(LogKind::Http)
            } else {
                None
            }
        });
    }
}

fn json_kind(rec: &ZeekJsonRecord) -> Option<LogKind> {
    if let Some(k) = rec.field("_path").and_then(LogKind::from_path) {
        return Some(k);
    }
    let has = |k: &str| rec.raw_value(k).is_some();
    if has("query") || has("qtype_name") || has("rcode_name") {
        Some(LogKind::Dns)
    } else if has("server_name") || has("cipher") || has("ja3") || has("established") {
        Some(LogKind::Ssl)
    } else if has("method") || has("uri") || has("trans_depth") || has("status_code") {
        Some(LogKind::Http)
    } else {
        None
    }
}

/// Builds a record from field accessors shared by TSV and JSON.
fn build<'a>(
    kind: Option<LogKind>,
    get: impl Fn(usize) -> Val<'a>,
    answers: Answers<'a>,
) -> core::result::Result<NameRecord<'a>, Bad> {
    let opt = |i: usize| get(i).map_err(|r| Bad::field(SkipReason::BadUtf8, FIELDS[i], r));
    let req = |i: usize| opt(i)?.ok_or_else(|| Bad::field(SkipReason::MissingField, FIELDS[i], None));
    let Some(kind) = kind else {
        return Err(Bad::field(SkipReason::MissingField, "query|server_name|method", None));
    };
    let ts_text = req(TS)?;
    let ts = parse_ts_secs(ts_text.as_bytes()).ok_or_else(|| Bad::field(SkipReason::BadTimestamp, "ts", None))?;
    let uid = opt(UID)?;
    let src = req(ORIG_H)?;
    let dst = req(RESP_H)?;
    let port = || match opt(RESP_P)? {
        None => Ok(None),
        Some(p) => parse_port(p.as_bytes())
            .map(Some)
            .ok_or_else(|| Bad::field(SkipReason::BadPort, "id.resp_p", None)),
    };
    Ok(match kind {
        LogKind::Dns => NameRecord::Dns(DnsRecord {
            ts,
            uid,
            src,
            dst,
            query: req(QUERY)?,
            qtype: opt(QTYPE)?,
            rcode: opt(RCODE)?,
            answers,
        }),
        LogKind::Ssl => NameRecord::Ssl(SslRecord {
            ts,
            uid,
            src,
            dst,
            dst_port: port()?,
            server_name: opt(SERVER_NAME)?,
        }),
        LogKind::Http => NameRecord::Http(HttpRecord {
            ts,
            uid,
            src,
            dst,
            dst_port: port()?,
            method: opt(METHOD)?,
            host: opt(HOST)?,
            uri: opt(URI)?,
            user_agent: opt(UA)?,
        }),
    })
}

/// The name logs' [`LogSchema`].
#[derive(Debug)]
struct Names;

impl LogSchema for Names {
    type Cols = Cols;
    type Record<'a> = NameRecord<'a>;

    fn refresh(cols: &mut Cols, rec: &ZeekRecord) {
        cols.refresh(rec);
    }

    fn tsv<'a>(rec: &'a ZeekRecord, cols: &Cols) -> core::result::Result<NameRecord<'a>, Bad> {
        let get = tsv_fields(rec, &cols.cols)?;
        let answers = Answers {
            answers: ZeekList::tsv(get(ANSWERS).ok().flatten(), cols.cols.sep),
            ttls: ZeekList::tsv(get(TTLS).ok().flatten(), cols.cols.sep),
        };
        build(cols.kind, get, answers)
    }

    fn json(rec: &ZeekJsonRecord) -> core::result::Result<NameRecord<'_>, Bad> {
        if let Some(bad) = rec.scan_error() {
            return Err(bad.clone());
        }
        let answers = Answers {
            answers: ZeekList::json(rec.raw_value("answers")),
            ttls: ZeekList::json(rec.raw_value("TTLs")),
        };
        build(json_kind(rec), |i| json_field(rec, FIELDS[i]), answers)
    }
}

/// Reads Zeek `dns.log`, `ssl.log` and `http.log` files (TSV or JSON, plain or gzip) into
/// borrowed [`NameRecord`]s, skipping and counting bad records like the connection readers.
///
/// Drive it with [`for_each`](NameLogReader::for_each) (each record parsed once) or
/// [`next_record`](NameLogReader::next_record).
///
/// # Example
/// ```
/// use beaconstat::{read::{NameLogReader, NameRecord}};
/// let log = concat!(
///     r#"{"ts":1672843056.94,"uid":"CX1","id.orig_h":"10.136.0.18","id.orig_p":55548,"id.resp_h":"10.136.0.16","id.resp_p":3128,"version":"TLSv13","server_name":"www.example.com"}"#, "\n",
///     r#"{"ts":1672843057.0,"uid":"CD1","id.orig_h":"10.136.0.18","id.resp_h":"10.0.0.53","query":"www.example.com","answers":["93.184.216.34"],"TTLs":[300.0]}"#, "\n",
///     "not json\n",
/// );
/// let mut r = NameLogReader::from_reader(log.as_bytes())?;
/// let mut names = Vec::new();
/// r.for_each(|rec| match rec {
///     NameRecord::Ssl(s) => names.push(format!("sni {}", s.server_name.unwrap_or("-"))),
///     NameRecord::Dns(d) => names.push(format!("dns {} {}", d.query, d.answers.iter().count())),
///     _ => {}
/// })?;
/// assert_eq!(names, ["sni www.example.com", "dns www.example.com 1"]);
/// assert_eq!((r.stats().records, r.stats().events, r.stats().skipped), (3, 2, 1));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug)]
pub struct NameLogReader<R: Read = File> {
    log: ZeekLog<R, Names>,
}

super::zeek_log::log_reader_api!(NameLogReader, NameRecord, "a Zeek `dns`/`ssl`/`http` log");

#[cfg(test)]
mod tests {
    use super::*;

    const DNS_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n\
1610645203.325590\tCjeD8\t192.168.0.20\t5353\t224.0.0.251\t5353\tudp\t0\t-\t_homekit._tcp.local\t1\tC_INTERNET\t12\tPTR\t-\t-\tF\tF\tF\tF\t0\t-\t-\tF\n\
1610645204.1\tCa\t192.168.0.15\t4444\t192.168.0.1\t53\tudp\t7\t0.01\twww.Example.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\twww.example.com.cdn.net,198.51.100.7,198.51.100.8\t60.000000,20.000000,20.000000\tF\n\
bad\tCb\t192.168.0.15\t4444\t192.168.0.1\t53\tudp\t7\t0.01\tx.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t-\t-\tF\n\
1610645205.0\tCc\t192.168.0.15\t4444\t192.168.0.1\t53\tudp\t7\t0.01\t-\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t-\t-\tF\n";

    #[test]
    fn dns_tsv_records_answers_and_skips() {
        let mut r = NameLogReader::from_reader(DNS_TSV.as_bytes()).unwrap();
        let mut got = Vec::new();
        r.for_each(|rec| {
            let NameRecord::Dns(d) = rec else { panic!("dns") };
            let a: Vec<String> = d
                .answers
                .iter()
                .map(|a| format!("{}/{}", a.value, a.ttl.map_or(-1, |t| t.as_micros() / 1_000_000)))
                .collect();
            got.push(format!(
                "{} {} {} {}",
                d.src,
                d.query,
                d.qtype.unwrap_or("-"),
                a.join(" ")
            ));
        })
        .unwrap();
        assert_eq!(
            got,
            [
                "192.168.0.20 _homekit._tcp.local PTR ",
                "192.168.0.15 www.Example.com A www.example.com.cdn.net/60 198.51.100.7/20 198.51.100.8/20"
            ]
        );
        let st = r.stats();
        assert_eq!((st.records, st.events, st.skipped), (4, 2, 2));
        assert_eq!(st.skipped_samples[0].reason, SkipReason::BadTimestamp);
        assert_eq!(st.skipped_samples[0].position.line, 9);
        assert_eq!(st.skipped_samples[1].reason, SkipReason::MissingField);
        assert_eq!(st.skipped_samples[1].field.as_deref(), Some("query"));
    }

    #[test]
    fn next_record_matches_for_each_and_strict_fails() {
        let mut r = NameLogReader::from_reader(DNS_TSV.as_bytes()).unwrap();
        let mut n = 0;
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!(rec.kind(), LogKind::Dns);
            n += 1;
        }
        assert_eq!(n, 2);
        assert_eq!(r.stats().skipped, 2);
        let mut r = NameLogReader::with_options(DNS_TSV.as_bytes(), ReadOptions::new().strict(true)).unwrap();
        assert!(r.next_record().unwrap().is_some());
        assert!(r.next_record().unwrap().is_some());
        let e = r.next_record().unwrap_err();
        assert_eq!(e.position().map(|p| p.line), Some(9));
    }

    #[test]
    fn json_dns_ssl_http_and_unknown_logs() {
        let log = concat!(
            r#"{"_path":"dns","ts":2.0,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.53","query":"a.example","answers":[ "192.0.2.1" , "192.0.2.2" ],"TTLs":[30.0,30.0]}"#,
            "\n",
            r#"{"ts":3.0,"uid":"C2","id":{"orig_h":"10.0.0.1","resp_h":"192.0.2.1","resp_p":443},"version":"TLSv12","cipher":"x"}"#,
            "\n",
            r#"{"ts":4.0,"uid":"C3","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.8","id.resp_p":3128,"method":"CONNECT","host":"b.example","uri":"b.example:443","user_agent":"curl\/7"}"#,
            "\n",
            r#"{"ts":5.0,"uid":"C4","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.8","conn_state":"SF"}"#,
            "\n",
            r#"{"ts":6.0,"uid":"C5","id.orig_h":"10.0.0.1""#,
            "\n",
        );
        let mut r = NameLogReader::from_reader(log.as_bytes()).unwrap();
        assert_eq!(r.format(), Format::ZeekJson);
        let mut got = Vec::new();
        r.for_each(|rec| {
            got.push(match rec {
                NameRecord::Dns(d) => format!(
                    "dns {} {:?}",
                    d.query,
                    d.answers.iter().map(|a| (a.value, a.is_address())).collect::<Vec<_>>()
                ),
                NameRecord::Ssl(s) => format!("ssl {:?} {:?}", s.server_name, s.dst_port),
                NameRecord::Http(h) => format!("http {:?} {:?} {:?}", h.proxy_target(), h.user_agent, h.dst_port),
            })
        })
        .unwrap();
        assert_eq!(
            got,
            [
                r#"dns a.example [("192.0.2.1", true), ("192.0.2.2", true)]"#,
                "ssl None Some(443)",
                r#"http Some("b.example") Some("curl/7") Some(3128)"#,
            ]
        );
        let st = r.stats();
        assert_eq!((st.records, st.events, st.skipped), (5, 3, 2));
        assert_eq!(st.by_reason.get(&SkipReason::BadJson), Some(&1));
        assert_eq!(st.by_reason.get(&SkipReason::MissingField), Some(&1));
    }

    #[test]
    fn ports_and_ipv6_hosts() {
        assert_eq!(strip_port("a.example:443"), "a.example");
        assert_eq!(strip_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(strip_port("a.example"), "a.example");
    }

    #[test]
    fn junk_is_a_format_error() {
        assert!(NameLogReader::from_reader(&b"\x00\x01\x02"[..]).is_err());
        let mut r = NameLogReader::from_reader(&b""[..]).unwrap();
        assert!(r.next_record().unwrap().is_none());
    }
}
