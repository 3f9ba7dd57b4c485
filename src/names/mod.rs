//! Names for connections: which server name a connection asked for, and how we know.
//!
//! A beacon through a web proxy is, at the IP level, only "host → proxy:3128"; one behind a
//! CDN or fast-flux DNS spreads over many destination addresses. Grouping by the *name* the
//! implant asked for brings each back into one series. A [`NameResolver`] is built once from
//! Zeek's `dns.log`, `ssl.log` and `http.log` ([`NameLogReader`](crate::read::NameLogReader)) and then
//! resolves every connection, in this order:
//!
//! 1. **By `uid`** ([`ResolvedBy::ConnectHost`], [`ResolvedBy::Uid`]): the same connection in
//!    `http.log` or `ssl.log`. A proxy request (`CONNECT host:443`, or `GET http://host/…`)
//!    names the real destination and marks the connection `via_proxy`; otherwise the TLS SNI,
//!    else the HTTP `Host` header.
//! 2. **By DNS** ([`ResolvedBy::Dns`]): the most recent answer *to that source* for the
//!    connection's destination address, if the connection starts within the answer's TTL plus a
//!    grace period ([`NameResolverBuilder::dns_grace`]). The name is the one queried (what the
//!    implant asked for), not the CNAME target.
//! 3. Otherwise [`ResolvedBy::Unresolved`].
//!
//! Names are normalised (ASCII lowercase, no trailing dot; IP literals are not names) and
//! interned once; each name's registered domain ([`registered_domain`], from the Public Suffix
//! List) is computed once at interning. Resolving a connection is two hash probes and a binary
//! search, with no allocation.
//!
//! # Example: a proxied beacon, a CDN beacon
//! ```
//! use beaconstat::{ConnEvent, Timestamp, names::{NameResolver, ResolvedBy}, read::NameLogReader};
//! let http = "#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tmethod\thost\turi\n\
//!             100.0\tCP1\t10.0.0.5\t10.0.0.8\t3128\tCONNECT\tc2.example.com\tc2.example.com:443\n";
//! let dns = "#path\tdns\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tanswers\tTTLs\n\
//!            200.0\t10.0.0.6\t10.0.0.53\tUpdate.CDN-Example.net.\t192.0.2.44\t60.0\n";
//! let mut b = NameResolver::builder();
//! NameLogReader::from_reader(http.as_bytes())?.for_each(|r| b.add(&r))?;
//! NameLogReader::from_reader(dns.as_bytes())?.for_each(|r| b.add(&r))?;
//! let resolver = b.build();
//!
//! let proxied = ConnEvent::new(Timestamp::from_secs(100), "10.0.0.5", "10.0.0.8").with_uid("CP1");
//! let r = resolver.resolve(&proxied);
//! assert_eq!((r.name, r.domain, r.how, r.via_proxy), (Some("c2.example.com"), Some("example.com"), ResolvedBy::ConnectHost, true));
//!
//! let cdn = ConnEvent::new(Timestamp::from_secs(201), "10.0.0.6", "192.0.2.44");
//! let r = resolver.resolve(&cdn);
//! assert_eq!((r.name, r.how), (Some("update.cdn-example.net"), ResolvedBy::Dns));
//! // After the TTL (60 s) and the default grace (60 s), the answer no longer applies.
//! let late = ConnEvent::new(Timestamp::from_secs(400), "10.0.0.6", "192.0.2.44");
//! assert_eq!(resolver.resolve(&late).how, ResolvedBy::Unresolved);
//! // Group by name: set the event's name and use `GroupBy::SrcName`.
//! let named = cdn.with_name(resolver.resolve(&cdn).name.unwrap_or(cdn.dst));
//! assert_eq!(named.name, Some("update.cdn-example.net"));
//! # Ok::<(), beaconstat::Error>(())
//! ```

mod dns_channel;

pub use dns_channel::{DnsChannelSet, DnsChannels, DnsEvidence};

use crate::event::ConnEvent;
use crate::read::{DnsRecord, HttpRecord, NameRecord, SslRecord};
use crate::series::{Interner, Span};
use crate::time::{Interval, Timestamp};
use core::fmt;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashTable};

/// How a connection's name was found.
///
/// # Example
/// ```
/// use beaconstat::names::ResolvedBy;
/// assert_eq!(ResolvedBy::ConnectHost.as_str(), "connect_host");
/// assert_eq!(ResolvedBy::default(), ResolvedBy::Unresolved);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ResolvedBy {
    /// The same connection (`uid`) in `ssl.log` (SNI) or `http.log` (`Host`).
    Uid,
    /// The same connection's proxy request: `CONNECT host:port` or an absolute-URI request.
    ConnectHost,
    /// The most recent DNS answer for the destination address to this source, within its TTL.
    Dns,
    /// The most recent DNS answer for the destination address to *any* source, within its TTL
    /// (opt-in: [`NameResolverBuilder::dns_any_source`]; for sensors that see only the
    /// recursive resolver's queries). Weaker: addresses shared by many names (CDNs) may be
    /// named after another client's lookup.
    DnsAnySource,
    /// No name found.
    #[default]
    Unresolved,
}

impl ResolvedBy {
    /// `uid`, `connect_host`, `dns`, `unresolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResolvedBy::Uid => "uid",
            ResolvedBy::ConnectHost => "connect_host",
            ResolvedBy::Dns => "dns",
            ResolvedBy::DnsAnySource => "dns_any_source",
            ResolvedBy::Unresolved => "unresolved",
        }
    }
}

impl fmt::Display for ResolvedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connection's name, borrowed from the [`NameResolver`].
///
/// # Example
/// ```
/// use beaconstat::{names::{Resolution, ResolvedBy}};
/// let r = Resolution::unresolved();
/// assert_eq!((r.name, r.how, r.via_proxy), (None, ResolvedBy::Unresolved, false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Resolution<'r> {
    /// The server name (normalised FQDN), if found.
    pub name: Option<&'r str>,
    /// Its registered domain (Public Suffix List), if a name was found.
    pub domain: Option<&'r str>,
    /// How it was found.
    pub how: ResolvedBy,
    /// Whether the connection went to a proxy that was asked for the name.
    pub via_proxy: bool,
}

impl Resolution<'_> {
    /// No name.
    pub const fn unresolved() -> Self {
        Resolution {
            name: None,
            domain: None,
            how: ResolvedBy::Unresolved,
            via_proxy: false,
        }
    }
}

/// Counts of how connections were resolved. Add each [`Resolution`] with
/// [`ResolveStats::add`].
///
/// # Example
/// ```
/// use beaconstat::{names::{Resolution, ResolveStats}};
/// let mut st = ResolveStats::default();
/// st.add(&Resolution::unresolved());
/// assert_eq!((st.connections, st.unresolved, st.named()), (1, 1, 0));
/// assert_eq!(st.to_string(), "1 connections: 0 named (0 by uid, 0 by proxy request, 0 by DNS), 1 unresolved; 0 via proxy");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ResolveStats {
    /// Connections resolved (named or not).
    pub connections: u64,
    /// Named by `uid` (SNI, `Host`).
    pub by_uid: u64,
    /// Named by a proxy request of the same connection.
    pub by_connect: u64,
    /// Named by a DNS answer to the same source.
    pub by_dns: u64,
    /// Named by a DNS answer to another source ([`ResolvedBy::DnsAnySource`]).
    pub by_dns_any_source: u64,
    /// Not named.
    pub unresolved: u64,
    /// Named connections that went through a proxy.
    pub via_proxy: u64,
}

impl ResolveStats {
    /// Counts one resolution.
    pub fn add(&mut self, r: &Resolution<'_>) {
        self.connections += 1;
        match r.how {
            ResolvedBy::Uid => self.by_uid += 1,
            ResolvedBy::ConnectHost => self.by_connect += 1,
            ResolvedBy::Dns => self.by_dns += 1,
            ResolvedBy::DnsAnySource => self.by_dns_any_source += 1,
            ResolvedBy::Unresolved => self.unresolved += 1,
        }
        self.via_proxy += u64::from(r.via_proxy);
    }
    /// Connections that got a name.
    pub fn named(&self) -> u64 {
        self.by_uid + self.by_connect + self.by_dns + self.by_dns_any_source
    }
    /// Adds another set of counts.
    pub fn merge(&mut self, o: &ResolveStats) {
        self.connections += o.connections;
        self.by_uid += o.by_uid;
        self.by_connect += o.by_connect;
        self.by_dns += o.by_dns;
        self.by_dns_any_source += o.by_dns_any_source;
        self.unresolved += o.unresolved;
        self.via_proxy += o.via_proxy;
    }
}

impl fmt::Display for ResolveStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections: {} named ({} by uid, {} by proxy request, {} by DNS{}), {} unresolved; {} via proxy",
            self.connections,
            self.named(),
            self.by_uid,
            self.by_connect,
            self.by_dns,
            if self.by_dns_any_source > 0 {
                format!(", {} by another source's DNS", self.by_dns_any_source)
            } else {
                String::new()
            },
            self.unresolved,
            self.via_proxy
        )
    }
}

/// What went into a resolver's index.
///
/// # Example
/// ```
/// use beaconstat::names::NameResolver;
/// let r = NameResolver::builder().build();
/// assert_eq!(r.index_stats().names, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct IndexStats {
    /// DNS records added.
    pub dns_records: u64,
    /// Address answers indexed (one per (record, address)).
    pub dns_answers: u64,
    /// TLS records with an SNI.
    pub ssl_names: u64,
    /// HTTP records with a `Host` or proxy target.
    pub http_names: u64,
    /// HTTP proxy requests (`CONNECT`, absolute URI).
    pub proxy_requests: u64,
    /// Records whose name was empty or an IP literal (not a name).
    pub not_names: u64,
    /// Distinct names interned (FQDNs and registered domains).
    pub names: u64,
    /// Distinct connection ids with a name.
    pub uids: u64,
}

/// Normalises a server name into `buf`: ASCII lowercase, no trailing dot, no port. `None` for
/// an empty name or an IP literal.
fn normalize<'b>(name: &str, buf: &'b mut String) -> Option<&'b str> {
    let n = name.trim().trim_end_matches('.');
    if n.is_empty() || n.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    buf.clear();
    buf.push_str(n);
    buf.make_ascii_lowercase();
    Some(buf.as_str())
}

/// The registered domain of a name (the public suffix plus one label, from the Public Suffix
/// List via the `psl` crate): `www.example.co.uk` → `example.co.uk`. A name with no label
/// below its suffix (`localhost`, `com`) is its own domain. Returns a slice of `name` (ASCII
/// case is folded for the lookup only; a trailing dot is ignored).
///
/// # Example
/// ```
/// use beaconstat::names::registered_domain;
/// assert_eq!(registered_domain("www.honestimnotevil.com"), "honestimnotevil.com");
/// assert_eq!(registered_domain("a.b.example.co.uk"), "example.co.uk");
/// assert_eq!(registered_domain("user.github.io"), "user.github.io"); // github.io is a public suffix
/// assert_eq!(registered_domain("WWW.Example.COM."), "Example.COM");
/// assert_eq!(registered_domain("localhost"), "localhost");
/// ```
pub fn registered_domain(name: &str) -> &str {
    let n = name.trim_end_matches('.');
    let mut buf = [0u8; 256];
    let Some(lower) = buf.get_mut(..n.len()) else {
        return n;
    };
    lower.copy_from_slice(n.as_bytes());
    lower.make_ascii_lowercase();
    match psl::domain(lower) {
        Some(d) => {
            let len = d.as_bytes().len();
            n.get(n.len().saturating_sub(len)..).unwrap_or(n)
        }
        None => n,
    }
}

/// The labels of `name` below its registered domain (`a.b` for `a.b.example.com`; empty for
/// the domain itself).
///
/// # Example
/// ```
/// use beaconstat::names::subdomain;
/// assert_eq!(subdomain("x1.t.example.co.uk"), "x1.t");
/// assert_eq!(subdomain("example.com"), "");
/// ```
pub fn subdomain(name: &str) -> &str {
    let n = name.trim_end_matches('.');
    let d = registered_domain(n);
    n.get(..n.len() - d.len()).unwrap_or("").trim_end_matches('.')
}

/// Shannon entropy of the characters of `s`, in bits per character, dots excluded: about
/// 4.5–5 for random base32/base64 labels (DNS tunnels), under 3 for most words.
///
/// # Example
/// ```
/// use beaconstat::names::label_entropy;
/// assert_eq!(label_entropy("aaaa"), 0.0);
/// assert!((label_entropy("abcd") - 2.0).abs() < 1e-12);
/// assert!(label_entropy("www") < 1.0);
/// assert!(label_entropy("mzxw6ytboi4dmnzsgq2tenbrgi3tq") > 3.5);
/// ```
pub fn label_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for &b in s.as_bytes() {
        if b != b'.' {
            counts[usize::from(b.to_ascii_lowercase())] += 1;
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    let nf = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / nf;
            -p * p.log2()
        })
        .sum::<f64>()
        .max(0.0)
}

/// The name known for one connection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UidName {
    name: u32,
    // 3: proxy request, 2: SNI, 1: Host header.
    rank: u8,
    via_proxy: bool,
}

/// One DNS answer: (source, address) asked at `ts`, valid until `until` (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct DnsAnswer {
    src: u32,
    ip: u32,
    ts: i64,
    until: i64,
    name: u32,
}

/// The run of answers for one (source, address) in the sorted answer list, with the two
/// addresses' `(start, len)` in the address arena (inline, so a probe touches the table
/// entry and the text only).
#[derive(Debug, Clone, Copy)]
struct PairRun {
    src: (u32, u32),
    ip: (u32, u32),
    start: u32,
    end: u32,
}

/// A connection id's text in the uid arena and its name (inline, as for [`PairRun`]).
#[derive(Debug, Clone, Copy)]
struct UidSlot {
    uid: (u32, u32),
    name: UidName,
}

#[inline]
fn at(arena: &str, (s, l): (u32, u32)) -> &str {
    arena.get(s as usize..s as usize + l as usize).unwrap_or("")
}

/// Shared name storage: names, their registered domains.
#[derive(Debug, Clone, Default)]
struct Names {
    names: Interner<Span>,
    // Per name id: the id of its registered domain (itself for a domain).
    domain_of: Vec<u32>,
    scratch: String,
}

impl Names {
    /// Interns a normalised name and its domain; `None` if it is not a name.
    fn intern(&mut self, raw: &str) -> Option<u32> {
        let mut scratch = core::mem::take(&mut self.scratch);
        let out = normalize(raw, &mut scratch).and_then(|n| {
            let id = self.names.intern(n)?;
            if id as usize >= self.domain_of.len() {
                let d = registered_domain(n);
                let did = if d.len() == n.len() { id } else { self.names.intern(d)? };
                self.domain_of.resize(self.names.len(), u32::MAX);
                if let Some(slot) = self.domain_of.get_mut(id as usize) {
                    *slot = did;
                }
                if let Some(slot) = self.domain_of.get_mut(did as usize) {
                    *slot = did;
                }
            }
            Some(id)
        });
        self.scratch = scratch;
        out
    }

    fn resolution(&self, id: u32, how: ResolvedBy, via_proxy: bool) -> Resolution<'_> {
        let domain = self.domain_of.get(id as usize).map(|&d| self.names.get(d));
        Resolution {
            name: Some(self.names.get(id)),
            domain,
            how,
            via_proxy,
        }
    }
}

/// Collects names from `dns.log`, `ssl.log` and `http.log` records; [`build`](Self::build)
/// makes the [`NameResolver`].
///
/// # Example
/// ```
/// use beaconstat::{Interval, names::NameResolver};
/// let mut b = NameResolver::builder();
/// b.dns_grace(Interval::from_secs(300));
/// let resolver = b.build();
/// assert_eq!(resolver.index_stats().dns_answers, 0);
/// ```
#[derive(Debug, Clone)]
pub struct NameResolverBuilder {
    names: Names,
    addrs: Interner<Span>,
    uids: Interner<Span>,
    // Indexed by uid id.
    uid_names: Vec<UidName>,
    answers: Vec<DnsAnswer>,
    grace: Interval,
    any_source: bool,
    stats: IndexStats,
}

impl Default for NameResolverBuilder {
    fn default() -> Self {
        NameResolverBuilder {
            names: Names::default(),
            addrs: Interner::default(),
            uids: Interner::default(),
            uid_names: Vec::new(),
            answers: Vec::new(),
            grace: Interval::from_secs(60),
            any_source: false,
            stats: IndexStats::default(),
        }
    }
}

impl NameResolverBuilder {
    /// An empty builder (DNS grace 60 s).
    pub fn new() -> Self {
        Self::default()
    }

    /// How long after its TTL a DNS answer still names connections (default 60 s: clients
    /// and stub resolvers cache a little longer than the TTL says). Negative values count as 0.
    pub fn dns_grace(&mut self, grace: Interval) -> &mut Self {
        self.grace = Interval::from_micros(grace.as_micros().max(0));
        self
    }

    /// Whether a connection no DNS answer to its own source names may take the most recent
    /// answer for its destination to any source ([`ResolvedBy::DnsAnySource`]). Off by default;
    /// turn it on when the sensor sees the recursive resolver's queries rather than the
    /// clients'. Costs a second copy of the answer index.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, Timestamp, names::{NameResolver, ResolvedBy}, read::NameLogReader};
    /// let dns = "#path\tdns\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tanswers\tTTLs\n\
    ///            10.0\t10.0.0.53\t8.8.8.8\tc2.example.net\t192.0.2.80\t300.0\n";
    /// let mut b = NameResolver::builder();
    /// b.dns_any_source(true);
    /// NameLogReader::from_reader(dns.as_bytes())?.for_each(|r| b.add(&r))?;
    /// let r = b.build();
    /// let ev = ConnEvent::new(Timestamp::from_secs(12), "10.0.0.7", "192.0.2.80");
    /// assert_eq!((r.resolve(&ev).name, r.resolve(&ev).how), (Some("c2.example.net"), ResolvedBy::DnsAnySource));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn dns_any_source(&mut self, yes: bool) -> &mut Self {
        self.any_source = yes;
        self
    }

    /// Adds any name record.
    pub fn add(&mut self, rec: &NameRecord<'_>) {
        match rec {
            NameRecord::Dns(d) => self.add_dns(d),
            NameRecord::Ssl(s) => self.add_ssl(s),
            NameRecord::Http(h) => self.add_http(h),
        }
    }

    /// Adds a DNS record: each address answer maps (source, address) to the query name.
    pub fn add_dns(&mut self, d: &DnsRecord<'_>) {
        self.stats.dns_records += 1;
        let mut name = None;
        for a in d.answers.iter() {
            if !a.is_address() {
                continue;
            }
            let Some(n) = name.or_else(|| self.names.intern(d.query)) else {
                self.stats.not_names += 1;
                return;
            };
            name = Some(n);
            if !self.push_answer(d.ts, d.src, n, a.value, a.ttl) {
                return;
            }
        }
    }

    /// Adds one DNS answer from any source (passive DNS, Sysmon event 22's `QueryResults`, an
    /// EDR): `src` asked for `name` at `ts` and got address `addr`, valid for `ttl`. `src` may
    /// also be a host name (Sysmon 22 names the computer, not its address): connections whose
    /// [`host`](ConnEvent::host) matches are then named too. Returns whether the answer was
    /// indexed (`false` for a name that is an IP literal or empty, or an `addr` that is not an
    /// address).
    ///
    /// # Example
    /// ```
    /// use beaconstat::{ConnEvent, Interval, Timestamp, names::{NameResolver, ResolvedBy}};
    /// let mut b = NameResolver::builder();
    /// // Sysmon 22 on WS-042: QueryName c2.example.net, QueryResults "192.0.2.66;".
    /// assert!(b.add_answer(Timestamp::from_secs(100), "WS-042", "c2.example.net", "192.0.2.66", Interval::from_secs(300)));
    /// assert!(!b.add_answer(Timestamp::from_secs(100), "WS-042", "c2.example.net", "type: 5 cdn.example", Interval::ZERO));
    /// let r = b.build();
    /// let ev = ConnEvent::new(Timestamp::from_secs(101), "10.0.0.42", "192.0.2.66").with_host("WS-042");
    /// assert_eq!((r.resolve(&ev).name, r.resolve(&ev).how), (Some("c2.example.net"), ResolvedBy::Dns));
    /// ```
    pub fn add_answer(&mut self, ts: Timestamp, src: &str, name: &str, addr: &str, ttl: Interval) -> bool {
        let addr = addr.trim();
        if addr.parse::<std::net::IpAddr>().is_err() {
            return false;
        }
        let Some(n) = self.names.intern(name) else {
            self.stats.not_names += 1;
            return false;
        };
        self.push_answer(ts, src, n, addr, Some(ttl))
    }

    fn push_answer(&mut self, ts: Timestamp, src: &str, name: u32, addr: &str, ttl: Option<Interval>) -> bool {
        let (Some(src), Some(ip)) = (self.addrs.intern(src), self.addrs.intern(addr)) else {
            return false;
        };
        let ttl = ttl.map_or(0, Interval::as_micros).max(0);
        self.answers.push(DnsAnswer {
            src,
            ip,
            ts: ts.as_micros(),
            until: ts.as_micros().saturating_add(ttl),
            name,
        });
        self.stats.dns_answers += 1;
        true
    }

    /// Adds a TLS record: its SNI names its connection.
    pub fn add_ssl(&mut self, s: &SslRecord<'_>) {
        if let (Some(uid), Some(sni)) = (s.uid, s.server_name)
            && self.add_uid(uid, sni, 2, false)
        {
            self.stats.ssl_names += 1;
        }
    }

    /// Adds an HTTP record: a proxy request's target (marking the connection as proxied), else
    /// its `Host` header, names its connection.
    pub fn add_http(&mut self, h: &HttpRecord<'_>) {
        let Some(uid) = h.uid else { return };
        let added = match h.proxy_target() {
            Some(t) => {
                self.stats.proxy_requests += 1;
                self.add_uid(uid, t, 3, true)
            }
            None => match h.host {
                Some(host) => self.add_uid(uid, crate::read::strip_port(host), 1, false),
                None => false,
            },
        };
        if added {
            self.stats.http_names += 1;
        }
    }

    fn add_uid(&mut self, uid: &str, name: &str, rank: u8, via_proxy: bool) -> bool {
        let Some(n) = self.names.intern(name) else {
            self.stats.not_names += 1;
            return false;
        };
        let Some(u) = self.uids.intern(uid) else { return false };
        let new = UidName {
            name: n,
            rank,
            via_proxy,
        };
        match self.uid_names.get_mut(u as usize) {
            Some(old) => {
                let proxied = old.via_proxy || via_proxy;
                if rank > old.rank {
                    *old = new;
                }
                old.via_proxy = proxied;
            }
            None => self.uid_names.push(new),
        }
        true
    }

    /// The resolver: answers sorted per (source, address) for binary search.
    pub fn build(self) -> NameResolver {
        let NameResolverBuilder {
            names,
            addrs,
            uids,
            uid_names,
            mut answers,
            grace,
            any_source,
            mut stats,
        } = self;
        answers.sort_unstable();
        let hasher = DefaultHashBuilder::default();
        let (addr_arena, addr_spans) = addrs.into_store().into_parts();
        let span = |id: u32| addr_spans.get(id as usize).copied().unwrap_or((0, 0));
        let mut pairs: HashTable<PairRun> = HashTable::new();
        let mut i = 0;
        while i < answers.len() {
            let (src, ip) = (answers[i].src, answers[i].ip);
            let mut j = i + 1;
            while j < answers.len() && answers[j].src == src && answers[j].ip == ip {
                j += 1;
            }
            let run = PairRun {
                src: span(src),
                ip: span(ip),
                start: u32::try_from(i).unwrap_or(u32::MAX),
                end: u32::try_from(j).unwrap_or(u32::MAX),
            };
            let key = |r: &PairRun| hasher.hash_one((at(&addr_arena, r.src), at(&addr_arena, r.ip)));
            pairs.insert_unique(key(&run), run, key);
            i = j;
        }
        // Any-source index: answers sorted by (address, time), one run per address.
        let mut by_ip = Vec::new();
        let mut ips: HashTable<PairRun> = HashTable::new();
        if any_source {
            by_ip = answers.clone();
            by_ip.sort_unstable_by_key(|a| (a.ip, a.ts, a.until, a.name));
            let mut i = 0;
            while i < by_ip.len() {
                let ip = by_ip[i].ip;
                let mut j = i + 1;
                while j < by_ip.len() && by_ip[j].ip == ip {
                    j += 1;
                }
                let run = PairRun {
                    src: (0, 0),
                    ip: span(ip),
                    start: u32::try_from(i).unwrap_or(u32::MAX),
                    end: u32::try_from(j).unwrap_or(u32::MAX),
                };
                let key = |r: &PairRun| hasher.hash_one(at(&addr_arena, r.ip).as_bytes());
                ips.insert_unique(key(&run), run, key);
                i = j;
            }
        }
        let mut uid_table: HashTable<UidSlot> = HashTable::with_capacity(uid_names.len());
        let uid_spans: Vec<(u32, u32)> = (0..uid_names.len()).map(|u| uids.store().span(u as u32)).collect();
        let (uid_arena, _) = uids.into_store().into_parts();
        for (&name, &uid) in uid_names.iter().zip(&uid_spans) {
            let slot = UidSlot { uid, name };
            let key = |s: &UidSlot| hasher.hash_one(at(&uid_arena, s.uid).as_bytes());
            uid_table.insert_unique(key(&slot), slot, key);
        }
        stats.names = names.names.len() as u64;
        stats.uids = uid_names.len() as u64;
        NameResolver {
            names,
            addr_arena,
            uid_arena,
            uids: uid_table,
            answers,
            pairs,
            by_ip,
            ips,
            hasher,
            grace,
            stats,
        }
    }
}

/// Resolves connections to the server names they asked for.
///
/// Built once from Zeek `dns.log`, `ssl.log` and `http.log` records
/// ([`NameLogReader`](crate::read::NameLogReader)) with a [`NameResolverBuilder`]; then each
/// connection is resolved, in this order:
///
/// 1. **By `uid`** ([`ResolvedBy::ConnectHost`], [`ResolvedBy::Uid`]): the same connection in
///    `http.log` or `ssl.log`. A proxy request (`CONNECT host:443`, or `GET http://host/…`)
///    names the real destination and marks the connection `via_proxy`; otherwise the TLS SNI,
///    else the HTTP `Host` header.
/// 2. **By DNS** ([`ResolvedBy::Dns`]): the most recent answer *to that source* (or to the
///    connection's `host`, for answers recorded by host name with
///    [`NameResolverBuilder::add_answer`]) for the connection's destination address, if the
///    connection starts within the answer's TTL plus a grace period
///    ([`NameResolverBuilder::dns_grace`]). The name is the one queried (what the client asked
///    for), not the CNAME target. With [`NameResolverBuilder::dns_any_source`], an answer to
///    any source comes next ([`ResolvedBy::DnsAnySource`]).
/// 3. Otherwise [`ResolvedBy::Unresolved`].
///
/// Names are normalised (ASCII lowercase, no trailing dot; IP literals are not names) and
/// interned once with their registered domain ([`registered_domain`]). Resolving is two hash
/// probes and a binary search, with no allocation. Immutable once built: share one resolver
/// across threads (`&self` everywhere).
///
/// # Example
/// ```
/// use beaconstat::{ConnEvent, Timestamp, names::{NameResolver, ResolveStats, ResolvedBy}, read::NameLogReader};
/// let ssl = "#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tserver_name\n5.0\tC7\t10.0.0.5\t192.0.2.9\tapi.example.org\n";
/// let mut b = NameResolver::builder();
/// NameLogReader::from_reader(ssl.as_bytes())?.for_each(|r| b.add(&r))?;
/// let resolver = b.build();
/// let mut stats = ResolveStats::default();
/// for ev in [
///     ConnEvent::new(Timestamp::from_secs(5), "10.0.0.5", "192.0.2.9").with_uid("C7"),
///     ConnEvent::new(Timestamp::from_secs(9), "10.0.0.5", "192.0.2.9").with_uid("C8"),
/// ] {
///     stats.add(&resolver.resolve(&ev));
/// }
/// assert_eq!((stats.by_uid, stats.unresolved), (1, 1));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct NameResolver {
    names: Names,
    addr_arena: String,
    uid_arena: String,
    uids: HashTable<UidSlot>,
    // Sorted by (src, ip, ts, …).
    answers: Vec<DnsAnswer>,
    pairs: HashTable<PairRun>,
    // Sorted by (ip, ts, …); empty unless any-source fallback is on.
    by_ip: Vec<DnsAnswer>,
    ips: HashTable<PairRun>,
    hasher: DefaultHashBuilder,
    grace: Interval,
    stats: IndexStats,
}

impl Default for NameResolver {
    fn default() -> Self {
        NameResolverBuilder::new().build()
    }
}

impl NameResolver {
    /// A builder.
    pub fn builder() -> NameResolverBuilder {
        NameResolverBuilder::new()
    }

    /// What went into the index.
    pub fn index_stats(&self) -> &IndexStats {
        &self.stats
    }

    /// Approximate heap bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        self.names.names.heap_bytes()
            + self.addr_arena.capacity()
            + self.uid_arena.capacity()
            + self.uids.capacity() * core::mem::size_of::<UidSlot>()
            + self.answers.capacity() * core::mem::size_of::<DnsAnswer>()
            + self.pairs.capacity() * core::mem::size_of::<PairRun>()
            + self.by_ip.capacity() * core::mem::size_of::<DnsAnswer>()
            + self.ips.capacity() * core::mem::size_of::<PairRun>()
    }

    /// The name of one connection: by `uid`, else by DNS, else unresolved. Allocates nothing.
    pub fn resolve(&self, ev: &ConnEvent<'_>) -> Resolution<'_> {
        if let Some(uid) = ev.uid
            && !self.uids.is_empty()
            && let Some(slot) = self.uids.find(self.hasher.hash_one(uid.as_bytes()), |s| {
                at(&self.uid_arena, s.uid) == uid
            })
        {
            let n = slot.name;
            let how = if n.rank == 3 {
                ResolvedBy::ConnectHost
            } else {
                ResolvedBy::Uid
            };
            return self.names.resolution(n.name, how, n.via_proxy);
        }
        let t = ev.ts.as_micros();
        self.resolve_dns(ev.src, ev.dst, t)
            .or_else(|| ev.host.and_then(|h| self.resolve_dns(h, ev.dst, t)))
            .or_else(|| self.resolve_dns_any_source(ev.dst, t))
            .unwrap_or(Resolution::unresolved())
    }

    /// The latest answer at or before `ts_us` in a time-sorted run, if still valid.
    #[inline]
    fn latest_valid(&self, slice: &[DnsAnswer], ts_us: i64) -> Option<u32> {
        let k = slice.partition_point(|a| a.ts <= ts_us);
        let a = slice.get(k.checked_sub(1)?)?;
        (ts_us <= a.until.saturating_add(self.grace.as_micros())).then_some(a.name)
    }

    /// The name from any source's DNS answers for `dst` (only with
    /// [`NameResolverBuilder::dns_any_source`]; `None` otherwise).
    pub fn resolve_dns_any_source(&self, dst: &str, ts_us: i64) -> Option<Resolution<'_>> {
        if self.ips.is_empty() {
            return None;
        }
        let h = self.hasher.hash_one(dst.as_bytes());
        let run = self.ips.find(h, |r| at(&self.addr_arena, r.ip) == dst)?;
        let slice = self.by_ip.get(run.start as usize..run.end as usize)?;
        let name = self.latest_valid(slice, ts_us)?;
        Some(self.names.resolution(name, ResolvedBy::DnsAnySource, false))
    }

    /// The name from DNS alone: the most recent answer for `dst` to `src` at or before `ts_us`,
    /// if `ts_us` is within its TTL plus the grace.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{names::{NameResolver, ResolvedBy}, read::NameLogReader};
    /// let dns = "#path\tdns\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tanswers\tTTLs\n100.0\ta\tr\tx.example.com\t192.0.2.1\t30.0\n";
    /// let mut b = NameResolver::builder();
    /// NameLogReader::from_reader(dns.as_bytes())?.for_each(|r| b.add(&r))?;
    /// let res = b.build();
    /// assert_eq!(res.resolve_dns("a", "192.0.2.1", 150_000_000).map(|r| r.how), Some(ResolvedBy::Dns));
    /// assert_eq!(res.resolve_dns("a", "192.0.2.1", 99_000_000), None); // before the answer
    /// assert_eq!(res.domain_of("x.example.com"), Some("example.com"));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn resolve_dns(&self, src: &str, dst: &str, ts_us: i64) -> Option<Resolution<'_>> {
        // Without a dns.log there is nothing to find: no hash per connection.
        if self.pairs.is_empty() {
            return None;
        }
        let h = self.hasher.hash_one((src, dst));
        let run = self.pairs.find(h, |r| {
            at(&self.addr_arena, r.ip) == dst && at(&self.addr_arena, r.src) == src
        })?;
        let slice = self.answers.get(run.start as usize..run.end as usize)?;
        let name = self.latest_valid(slice, ts_us)?;
        Some(self.names.resolution(name, ResolvedBy::Dns, false))
    }

    /// The registered domain of an interned name (as [`registered_domain`], without the
    /// lookup), or `None` if the resolver never saw the name.
    pub fn domain_of(&self, name: &str) -> Option<&str> {
        let id = self.names.names.find_str(name)?;
        let d = *self.names.domain_of.get(id as usize)?;
        Some(self.names.names.get(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::NameLogReader;

    fn resolver(logs: &[&str], grace_s: i64) -> NameResolver {
        let mut b = NameResolver::builder();
        b.dns_grace(Interval::from_secs(grace_s));
        for l in logs {
            NameLogReader::from_reader(l.as_bytes())
                .unwrap()
                .for_each(|r| b.add(&r))
                .unwrap();
        }
        b.build()
    }

    const DNS: &str = "#path\tdns\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tanswers\tTTLs\n\
        100.0\t10.0.0.1\t10.0.0.53\ta.example.com\tcname.cdn.net,192.0.2.1,192.0.2.2\t300.0,60.0,60.0\n\
        150.0\t10.0.0.1\t10.0.0.53\tb.example.org\t192.0.2.1\t30.0\n\
        150.0\t10.0.0.2\t10.0.0.53\tc.example.net\t192.0.2.1\t30.0\n\
        160.0\t10.0.0.2\t10.0.0.53\t192.0.2.77\t192.0.2.77\t30.0\n";

    #[test]
    fn dns_most_recent_answer_within_ttl_and_grace() {
        let r = resolver(&[DNS], 10);
        let at = |src: &str, dst: &str, t: i64| {
            let ev = ConnEvent::new(Timestamp::from_secs(t), src, dst);
            r.resolve(&ev).name
        };
        assert_eq!(at("10.0.0.1", "192.0.2.1", 99), None, "before the answer");
        assert_eq!(at("10.0.0.1", "192.0.2.1", 120), Some("a.example.com"));
        assert_eq!(
            at("10.0.0.1", "192.0.2.2", 169),
            Some("a.example.com"),
            "TTL 60 + grace 10"
        );
        assert_eq!(at("10.0.0.1", "192.0.2.2", 171), None);
        // The newer answer for the same address wins; per source.
        assert_eq!(at("10.0.0.1", "192.0.2.1", 151), Some("b.example.org"));
        assert_eq!(at("10.0.0.2", "192.0.2.1", 151), Some("c.example.net"));
        assert_eq!(at("10.0.0.3", "192.0.2.1", 151), None);
        assert_eq!(at("10.0.0.1", "192.0.2.1", 191), None, "TTL 30 + grace 10 from 150");
        assert_eq!(r.index_stats().dns_answers, 4);
        assert_eq!(r.index_stats().not_names, 1);
        assert_eq!(r.domain_of("a.example.com"), Some("example.com"));
    }

    #[test]
    fn any_source_fallback_is_opt_in_and_second_to_own_source() {
        let off = resolver(&[DNS], 10);
        let ev = ConnEvent::new(Timestamp::from_secs(120), "10.0.0.9", "192.0.2.2");
        assert_eq!(off.resolve(&ev).how, ResolvedBy::Unresolved);
        let mut b = NameResolver::builder();
        b.dns_grace(Interval::from_secs(10)).dns_any_source(true);
        NameLogReader::from_reader(DNS.as_bytes())
            .unwrap()
            .for_each(|r| b.add(&r))
            .unwrap();
        let on = b.build();
        let r = on.resolve(&ev);
        assert_eq!((r.name, r.how), (Some("a.example.com"), ResolvedBy::DnsAnySource));
        // 10.0.0.1's own answer wins over 10.0.0.2's later one for the same address.
        let own = on.resolve(&ConnEvent::new(Timestamp::from_secs(151), "10.0.0.1", "192.0.2.1"));
        assert_eq!((own.name, own.how), (Some("b.example.org"), ResolvedBy::Dns));
        // Any source: the latest answer for the address (two at t=150; either is valid).
        let any = on.resolve(&ConnEvent::new(Timestamp::from_secs(151), "10.0.0.9", "192.0.2.1"));
        assert!(matches!(any.name, Some("b.example.org" | "c.example.net")), "{any:?}");
        assert_eq!(
            on.resolve(&ConnEvent::new(Timestamp::from_secs(500), "10.0.0.9", "192.0.2.1"))
                .how,
            ResolvedBy::Unresolved
        );
        let mut st = ResolveStats::default();
        st.add(&r);
        assert!(st.to_string().contains("1 by another source's DNS"), "{st}");
    }

    #[test]
    fn uid_priority_proxy_over_sni_over_host() {
        let http = "#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tmethod\thost\turi\n\
            1.0\tC1\ta\tproxy\t3128\tCONNECT\tx.evil.com\tx.evil.com:443\n\
            1.0\tC2\ta\tb\t80\tGET\tWWW.Site.example:8080\t/\n\
            1.0\tC3\ta\tb\t80\tGET\t192.0.2.5\t/\n";
        let ssl = "#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tserver_name\n\
            1.0\tC1\ta\tproxy\tsni.other.com\n1.0\tC2\ta\tb\tsni.site.example\n";
        // Order of logs does not matter.
        for logs in [[http, ssl], [ssl, http]] {
            let r = resolver(&logs, 60);
            let res = |uid| r.resolve(&ConnEvent::new(Timestamp::from_secs(1), "a", "b").with_uid(uid));
            let c1 = res("C1");
            assert_eq!(
                (c1.name, c1.how, c1.via_proxy),
                (Some("x.evil.com"), ResolvedBy::ConnectHost, true)
            );
            let c2 = res("C2");
            assert_eq!(
                (c2.name, c2.domain, c2.how),
                (Some("sni.site.example"), Some("site.example"), ResolvedBy::Uid)
            );
            assert_eq!(res("C3").how, ResolvedBy::Unresolved, "an IP literal is not a name");
        }
    }

    #[test]
    fn names_domains_entropy() {
        let mut s = String::new();
        assert_eq!(normalize(" WWW.Example.COM. ", &mut s), Some("www.example.com"));
        assert_eq!(normalize("2001:db8::1", &mut s), None);
        assert_eq!(normalize(".", &mut s), None);
        assert_eq!(registered_domain("x.y.s3.amazonaws.com"), "y.s3.amazonaws.com");
        assert_eq!(registered_domain(""), "");
        assert_eq!(registered_domain(&"a.".repeat(100)), "a.a");
        assert_eq!(subdomain("www"), "");
        assert!(label_entropy("0123456789abcdef") == 4.0);
    }
}
