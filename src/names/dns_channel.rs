//! DNS itself as a beacon channel: periodic queries under one registered domain, with the
//! evidence DNS tunnels leave (many distinct, high-entropy subdomains).

use super::{label_entropy, registered_domain};
use crate::read::DnsRecord;
use crate::series::{Grouper, Interner, SeriesKey, SeriesSet, Span};
use crate::time::Timestamp;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashMap, HashSet};

/// Evidence about one (source, registered domain) DNS series.
///
/// # Example
/// ```
/// use beaconstat::names::DnsEvidence;
/// let e = DnsEvidence::default();
/// assert!(!e.tunnel_like());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct DnsEvidence {
    /// Queries in the series.
    pub queries: u64,
    /// Distinct names queried below the registered domain (`a.x.com`, `b.x.com` → 2).
    pub subdomains: u64,
    /// Mean Shannon entropy (bits per character, [`label_entropy`]) of the distinct
    /// subdomain parts; 0 if there are none.
    pub mean_entropy: f64,
    /// Mean length in characters of the distinct subdomain parts.
    pub mean_subdomain_len: f64,
}

impl DnsEvidence {
    /// At least this many distinct subdomains for [`tunnel_like`](Self::tunnel_like).
    pub const TUNNEL_MIN_SUBDOMAINS: u64 = 20;
    /// At least this mean entropy (bits/char) for [`tunnel_like`](Self::tunnel_like).
    pub const TUNNEL_MIN_ENTROPY: f64 = 3.5;
    /// At least this mean subdomain length for [`tunnel_like`](Self::tunnel_like).
    pub const TUNNEL_MIN_LEN: f64 = 12.0;

    /// Whether the series looks like a DNS tunnel or C2-over-DNS: at least
    /// [`TUNNEL_MIN_SUBDOMAINS`](Self::TUNNEL_MIN_SUBDOMAINS) distinct subdomains, mostly
    /// one-off (distinct / queries ≥ 0.5), long and high-entropy (encoded data in the labels).
    pub fn tunnel_like(&self) -> bool {
        self.subdomains >= Self::TUNNEL_MIN_SUBDOMAINS
            && self.subdomains * 2 >= self.queries
            && self.mean_entropy >= Self::TUNNEL_MIN_ENTROPY
            && self.mean_subdomain_len >= Self::TUNNEL_MIN_LEN
    }
}

#[derive(Debug, Clone, Default)]
struct Acc {
    queries: u64,
    distinct: HashSet<u64>,
    entropy_sum: f64,
    len_sum: f64,
}

/// Groups `dns.log` queries into per-(source, registered domain) series and gathers
/// [`DnsEvidence`]. Reverse lookups (`*.arpa`) and mDNS (`*.local`) are left out and counted
/// in [`ignored`](Self::ignored).
///
/// # Example: a DNS tunnel
/// ```
/// use beaconstat::{Analyzer, names::DnsChannels, read::NameLogReader};
/// let mut log = String::from("#path\tdns\n#fields\tts\tid.orig_h\tid.resp_h\tquery\tqtype_name\n");
/// let mut x = 12345u64;
/// for i in 0..200 {
///     let label: String = (0..32).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; b"abcdefghijklmnopqrstuvwxyz234567"[(x % 32) as usize] as char }).collect();
///     log.push_str(&format!("{}.0\t10.0.0.9\t10.0.0.53\t{label}.t.exfil.example\tTXT\n", 1000 + 30 * i));
/// }
/// let mut ch = DnsChannels::new();
/// NameLogReader::from_reader(log.as_bytes())?.for_each(|r| if let beaconstat::read::NameRecord::Dns(d) = r { ch.push(&d) })?;
/// let set = ch.finish();
/// let s = set.series().get(0).unwrap();
/// assert_eq!((s.key().src, s.key().name), (Some("10.0.0.9"), Some("exfil.example")));
/// let ev = set.evidence(&s.key()).unwrap();
/// assert_eq!((ev.queries, ev.subdomains), (200, 200));
/// assert!(ev.tunnel_like() && ev.mean_entropy > 4.0);
/// assert!(Analyzer::default().score_series(&s).score > 0.8);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DnsChannels {
    grouper: Grouper,
    srcs: Interner<Span>,
    domains: Interner<Span>,
    index: HashMap<u64, u32>,
    accs: Vec<Acc>,
    hasher: DefaultHashBuilder,
    scratch: String,
    ignored: u64,
}

impl Default for DnsChannels {
    fn default() -> Self {
        DnsChannels {
            grouper: Grouper::default(),
            srcs: Interner::default(),
            domains: Interner::default(),
            index: HashMap::new(),
            accs: Vec::new(),
            hasher: DefaultHashBuilder::default(),
            scratch: String::new(),
            ignored: 0,
        }
    }
}

impl DnsChannels {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queries left out (reverse lookups, mDNS, empty names).
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Adds one query.
    pub fn push(&mut self, d: &DnsRecord<'_>) {
        self.push_query(d.ts, d.src, d.query);
    }

    /// Adds one query by its parts.
    pub fn push_query(&mut self, ts: Timestamp, src: &str, query: &str) {
        let mut q = core::mem::take(&mut self.scratch);
        q.clear();
        q.push_str(query.trim().trim_end_matches('.'));
        q.make_ascii_lowercase();
        if q.is_empty() || q.ends_with(".arpa") || q.ends_with(".local") || q == "local" {
            self.ignored += 1;
            self.scratch = q;
            return;
        }
        let domain = registered_domain(&q);
        let sub = q.get(..q.len() - domain.len()).unwrap_or("").trim_end_matches('.');
        let (Some(s), Some(d)) = (self.srcs.intern(src), self.domains.intern(domain)) else {
            self.ignored += 1;
            self.scratch = q;
            return;
        };
        let key = (u64::from(s) << 32) | u64::from(d);
        let next = u32::try_from(self.accs.len()).unwrap_or(u32::MAX);
        let idx = *self.index.entry(key).or_insert(next) as usize;
        if idx == self.accs.len() {
            self.accs.push(Acc::default());
        }
        if let Some(acc) = self.accs.get_mut(idx) {
            acc.queries += 1;
            if !sub.is_empty() && acc.distinct.insert(self.hasher.hash_one(sub)) {
                acc.entropy_sum += label_entropy(sub);
                acc.len_sum += sub.len() as f64;
            }
        }
        let k = SeriesKey::empty().with_src(src).with_name(domain);
        self.grouper.push_keyed(&k, ts, None);
        self.scratch = q;
    }

    /// The series (keyed by source and registered domain in [`SeriesKey::name`]) and their
    /// evidence.
    pub fn finish(self) -> DnsChannelSet {
        let evidence = self
            .accs
            .iter()
            .map(|a| {
                let n = a.distinct.len() as f64;
                DnsEvidence {
                    queries: a.queries,
                    subdomains: a.distinct.len() as u64,
                    mean_entropy: if n > 0.0 { a.entropy_sum / n } else { 0.0 },
                    mean_subdomain_len: if n > 0.0 { a.len_sum / n } else { 0.0 },
                }
            })
            .collect();
        DnsChannelSet {
            series: self.grouper.finish(),
            srcs: self.srcs,
            domains: self.domains,
            index: self.index,
            evidence,
            ignored: self.ignored,
        }
    }
}

/// DNS query series and their evidence, from [`DnsChannels::finish`].
///
/// # Example
/// ```
/// use beaconstat::{SeriesKey, Timestamp, names::DnsChannels};
/// let mut ch = DnsChannels::new();
/// ch.push_query(Timestamp::from_secs(1), "10.0.0.1", "www.example.com");
/// ch.push_query(Timestamp::from_secs(2), "10.0.0.1", "1.0.0.10.in-addr.arpa");
/// let set = ch.finish();
/// assert_eq!((set.series().len(), set.ignored()), (1, 1));
/// let key = SeriesKey::empty().with_src("10.0.0.1").with_name("example.com");
/// assert_eq!(set.evidence(&key).map(|e| e.subdomains), Some(1));
/// ```
#[derive(Debug, Clone)]
pub struct DnsChannelSet {
    series: SeriesSet,
    srcs: Interner<Span>,
    domains: Interner<Span>,
    index: HashMap<u64, u32>,
    evidence: Vec<DnsEvidence>,
    ignored: u64,
}

impl DnsChannelSet {
    /// The query series, keyed by `src` and `name` (the registered domain).
    pub fn series(&self) -> &SeriesSet {
        &self.series
    }
    /// The evidence for a series key (`src` and `name` set), if there is such a series.
    pub fn evidence(&self, key: &SeriesKey<'_>) -> Option<&DnsEvidence> {
        let s = self.srcs.find_str(key.src?)?;
        let d = self.domains.find_str(key.name?)?;
        let i = *self.index.get(&((u64::from(s) << 32) | u64::from(d)))?;
        self.evidence.get(i as usize)
    }
    /// Queries left out (reverse lookups, mDNS, empty names).
    pub fn ignored(&self) -> u64 {
        self.ignored
    }
}
