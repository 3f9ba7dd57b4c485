//! Allowlist: expected automation (NTP, update agents, monitoring) is periodic too.
//!
//! An [`Allowlist`] is an ordered list of named [`Rule`]s; the first rule matching a
//! [`SeriesKey`] decides its [`Action`]: suppress the series, or downrank its score by a
//! factor. [`AllowlistSummary`] counts what each rule did, for a one-line report.

use crate::error::{Error, Position, Result};
use crate::event::Proto;
use crate::series::SeriesKey;
use core::fmt;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The embedded default configuration (`allowlist.default.json`).
const DEFAULT_JSON: &str = include_str!("../allowlist.default.json");

/// What a matching rule does.
///
/// # Example
/// ```
/// use beaconstat::{SeriesKey, allowlist::{Action, Allowlist}};
/// let list = Allowlist::default_rules();
/// let k = SeriesKey::pair("10.0.0.5", "13.107.4.50").with_name("fe2.update.microsoft.com");
/// match list.match_key(&k, None).map(|r| r.action()) {
///     Some(Action::Downrank(f)) => assert_eq!(f, 0.3),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Action {
    /// Leave the series out of the results.
    Suppress,
    /// Multiply the series' score by this factor (in `(0, 1]`).
    Downrank(f64),
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|&p| p <= max)?,
            None => max,
        };
        Some(Cidr { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// One named allowlist rule.
///
/// # Example
/// ```
/// use beaconstat::{SeriesKey, allowlist::{Action, Rule}};
/// let rule = Rule::new("backup", Action::Downrank(0.5))
///     .with_dst("10.20.0.0/16")?
///     .with_port(443, None);
/// assert!(rule.matches(&SeriesKey::pair("10.0.0.5", "10.20.3.4").with_dst_port(443), None));
/// assert!(!rule.matches(&SeriesKey::pair("10.0.0.5", "10.21.3.4").with_dst_port(443), None));
/// assert!(!rule.matches(&SeriesKey::pair("10.0.0.5", "10.20.3.4"), None)); // no port in key
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    name: String,
    comment: Option<String>,
    action: Action,
    nets: Vec<Cidr>,
    // Lowercase, without leading or trailing dots.
    domains: Vec<String>,
    ports: Vec<(u16, Option<Proto>)>,
    // Lowercase file names.
    processes: Vec<String>,
}

impl Rule {
    /// A rule with no criteria yet (it matches nothing until one is added).
    pub fn new(name: &str, action: Action) -> Rule {
        Rule {
            name: name.to_owned(),
            comment: None,
            action,
            nets: Vec::new(),
            domains: Vec::new(),
            ports: Vec::new(),
            processes: Vec::new(),
        }
    }

    /// With a destination address or network (`192.0.2.1`, `10.0.0.0/8`, `fc00::/7`).
    ///
    /// # Errors
    /// A config error if `ip_or_cidr` is neither.
    pub fn with_dst(mut self, ip_or_cidr: &str) -> Result<Rule> {
        let c = Cidr::parse(ip_or_cidr).ok_or_else(|| {
            Error::config(
                "allowlist",
                format!("rule {}: bad IP or CIDR {ip_or_cidr:?}", self.name),
            )
        })?;
        self.nets.push(c);
        Ok(self)
    }

    /// With a domain suffix (`windowsupdate.com` matches `x.windowsupdate.com` and itself).
    pub fn with_domain_suffix(mut self, suffix: &str) -> Rule {
        self.domains.push(suffix.trim().trim_matches('.').to_ascii_lowercase());
        self
    }

    /// With a destination port, optionally restricted to a protocol.
    pub fn with_port(mut self, port: u16, proto: Option<Proto>) -> Rule {
        self.ports.push((port, proto));
        self
    }

    /// With a process image name (`MsMpEng.exe`; a full path is reduced to its file name).
    pub fn with_process(mut self, image: &str) -> Rule {
        let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
        self.processes.push(name.to_ascii_lowercase());
        self
    }

    /// With a free-text comment.
    pub fn with_comment(mut self, comment: &str) -> Rule {
        self.comment = Some(comment.to_owned());
        self
    }

    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rule's comment.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// What the rule does.
    pub fn action(&self) -> Action {
        self.action
    }

    fn has_criteria(&self) -> bool {
        !(self.nets.is_empty() && self.domains.is_empty() && self.ports.is_empty() && self.processes.is_empty())
    }

    /// Whether the rule matches `key` (semantics: see [`Allowlist`]).
    pub fn matches(&self, key: &SeriesKey<'_>, proto: Option<Proto>) -> bool {
        self.matches_with(key, destination_ip(key), proto)
    }

    /// [`Rule::matches`] with the key's destination already parsed as an address (once per key,
    /// not once per rule: a list checked against a million keys parsed ten million addresses).
    fn matches_with(&self, key: &SeriesKey<'_>, dst_ip: Option<IpAddr>, proto: Option<Proto>) -> bool {
        if !self.has_criteria() {
            return false;
        }
        let has_destination = !self.nets.is_empty() || !self.domains.is_empty();
        if has_destination && !self.matches_destination(key, dst_ip) {
            return false;
        }
        if !self.ports.is_empty() {
            let Some(port) = key.dst_port else {
                return false;
            };
            let ok = self
                .ports
                .iter()
                .any(|&(p, pr)| p == port && (pr.is_none() || proto.is_none() || pr == proto));
            if !ok {
                return false;
            }
        }
        if !self.processes.is_empty() {
            let Some(image) = key.process else {
                return false;
            };
            let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
            if !self.processes.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                return false;
            }
        }
        true
    }

    fn matches_destination(&self, key: &SeriesKey<'_>, dst_ip: Option<IpAddr>) -> bool {
        if let Some(ip) = dst_ip
            && self.nets.iter().any(|n| n.contains(ip))
        {
            return true;
        }
        let host = key.name.or(if dst_ip.is_none() { key.dst } else { None });
        if let Some(h) = host {
            let h = h.trim_end_matches('.');
            return self.domains.iter().any(|d| domain_has_suffix(h, d));
        }
        false
    }
}

/// The key's destination as an IP address (brackets around IPv6 allowed), if it is one.
fn destination_ip(key: &SeriesKey<'_>) -> Option<IpAddr> {
    key.dst.and_then(|d| d.trim_matches(['[', ']']).parse::<IpAddr>().ok())
}

/// `host` equals `suffix` or ends with `.suffix`, ignoring ASCII case.
fn domain_has_suffix(host: &str, suffix: &str) -> bool {
    let (h, s) = (host.as_bytes(), suffix.as_bytes());
    if s.is_empty() || h.len() < s.len() {
        return false;
    }
    let tail = &h[h.len() - s.len()..];
    tail.eq_ignore_ascii_case(s) && (h.len() == s.len() || h[h.len() - s.len() - 1] == b'.')
}

/// An ordered list of [`Rule`]s; the first match wins.
///
/// Within a rule, each kind of criterion that is given must match (AND across kinds); within a
/// kind, any entry may match (OR):
/// - destination: `ips`, `cidrs` (IPv4/IPv6) against the key's `dst`; `domains` (suffixes, at
///   label boundaries, case-insensitive) against the key's `name`, or its `dst` when that is a
///   host name;
/// - `ports`: the key's `dst_port`, optionally with a protocol (`"123/udp"`). The protocol is
///   checked when the caller knows it; series keys do not carry one, so `None` matches any;
/// - `processes`: the file name of the key's `process` image (case-insensitive).
///
/// A criterion the key lacks (no port in a pair key, no process in Zeek data) does not match.
///
/// The configuration is JSON (parsed by a small built-in parser, so no feature is needed);
/// see `allowlist.default.json` at the repository root, embedded as [`Allowlist::default_rules`].
///
/// # Example
/// ```
/// use beaconstat::{SeriesKey, allowlist::{Action, Allowlist}};
/// let list = Allowlist::from_json(r#"{"rules": [
///     {"name": "backup", "action": "downrank", "factor": 0.5, "cidrs": ["10.9.0.0/16"], "ports": [443]},
///     {"name": "updates", "action": "suppress", "domains": ["updates.example.com"]}
/// ]}"#)?;
/// let k = SeriesKey::pair("10.0.0.5", "cdn1.updates.example.com");
/// assert_eq!(list.match_key(&k, None).map(|r| r.name()), Some("updates"));
/// let k = SeriesKey::pair("10.0.0.5", "10.9.1.1").with_dst_port(443);
/// assert_eq!(list.match_key(&k, None).map(|r| r.action()), Some(Action::Downrank(0.5)));
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allowlist {
    rules: Vec<Rule>,
}

impl Allowlist {
    /// An empty allowlist.
    pub fn new() -> Allowlist {
        Allowlist::default()
    }

    /// The shipped defaults (`allowlist.default.json`): NTP, DHCP, multicast/broadcast
    /// discovery and internal SNMP/Zabbix monitoring suppressed; Windows Update, Microsoft
    /// telemetry domains and EDR/AV agent processes downranked. DNS is deliberately not listed.
    pub fn default_rules() -> Allowlist {
        // The embedded file is checked by a unit test; should it ever fail to parse, an empty
        // list (suppressing nothing) is the safe fallback.
        Allowlist::from_json(DEFAULT_JSON).unwrap_or_default()
    }

    /// Adds a rule at the end.
    ///
    /// # Errors
    /// A config error if the rule has no criteria, or its downrank factor is not in `(0, 1]`.
    pub fn push(&mut self, rule: Rule) -> Result<()> {
        if !rule.has_criteria() {
            return Err(Error::config(
                "allowlist",
                format!("rule {:?} has no ips, cidrs, domains, ports or processes", rule.name),
            ));
        }
        if let Action::Downrank(f) = rule.action
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(Error::config(
                "allowlist",
                format!("rule {:?}: downrank factor {f} is not in (0, 1]", rule.name),
            ));
        }
        self.rules.push(rule);
        Ok(())
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The first rule matching `key` (with the connections' protocol where known).
    pub fn match_key(&self, key: &SeriesKey<'_>, proto: Option<Proto>) -> Option<&Rule> {
        let dst_ip = destination_ip(key);
        self.rules.iter().find(|r| r.matches_with(key, dst_ip, proto))
    }

    /// [`match_key`](Allowlist::match_key), counting the match in `summary`.
    ///
    /// # Example
    /// ```
    /// use beaconstat::{Proto, SeriesKey, allowlist::{Action, Allowlist, AllowlistSummary}};
    /// let list = Allowlist::default_rules();
    /// let mut summary = AllowlistSummary::new();
    /// let ntp = SeriesKey::pair("192.168.1.132", "216.239.35.4").with_dst_port(123);
    /// let rule = list.check(&ntp, Some(Proto::Udp), &mut summary).unwrap();
    /// assert_eq!((rule.name(), rule.action()), ("ntp", Action::Suppress));
    /// let c2 = SeriesKey::pair("192.168.1.115", "41.108.179.197").with_dst_port(1177);
    /// assert!(list.check(&c2, Some(Proto::Tcp), &mut summary).is_none());
    /// assert_eq!(summary.to_string(), "1 periodic pair suppressed by allowlist: ntp 1");
    /// ```
    pub fn check(&self, key: &SeriesKey<'_>, proto: Option<Proto>, summary: &mut AllowlistSummary) -> Option<&Rule> {
        let r = self.match_key(key, proto)?;
        summary.record(r);
        Some(r)
    }

    /// Parses a JSON configuration:
    /// `{"rules": [{"name", "action": "suppress"|"downrank", "factor", "comment", "ips",
    /// "cidrs", "domains", "ports": [123, "123/udp"], "processes"}]}`. Keys starting with `_`
    /// and `comment` keys are ignored; any other unknown key is an error (to catch typos).
    ///
    /// # Errors
    /// A parse error with the line for malformed JSON; a config error naming the rule for a
    /// bad value.
    pub fn from_json(text: &str) -> Result<Allowlist> {
        let v = mini_json::parse(text)?;
        let mut list = Allowlist::new();
        let top = v.as_object("top level")?;
        for (k, val) in top {
            match k.as_str() {
                "rules" => {
                    for r in val.as_array("rules")? {
                        list.push(rule_from_json(r)?)?;
                    }
                }
                "comment" => {}
                k if k.starts_with('_') => {}
                k => return Err(Error::config("allowlist", format!("unknown top-level key {k:?}"))),
            }
        }
        Ok(list)
    }
}

fn rule_from_json(v: &mini_json::Value) -> Result<Rule> {
    let obj = v.as_object("rule")?;
    let get = |k: &str| obj.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    let name = get("name")
        .ok_or_else(|| Error::config("allowlist", "a rule has no \"name\""))?
        .as_str("name")?
        .to_owned();
    let bad = |what: String| Error::config("allowlist", format!("rule {name:?}: {what}"));
    let action = match get("action").map(|a| a.as_str("action")).transpose()? {
        Some("suppress") => Action::Suppress,
        Some("downrank") => {
            let f = get("factor")
                .and_then(mini_json::Value::as_f64)
                .ok_or_else(|| bad("\"downrank\" needs a numeric \"factor\"".into()))?;
            Action::Downrank(f)
        }
        Some(other) => return Err(bad(format!("unknown action {other:?} (suppress or downrank)"))),
        None => return Err(bad("no \"action\"".into())),
    };
    let mut rule = Rule::new(&name, action);
    for (k, val) in obj {
        match k.as_str() {
            "name" | "action" | "factor" => {}
            "comment" => rule.comment = val.as_str("comment").ok().map(str::to_owned),
            "ips" | "cidrs" => {
                for x in val.as_array(k)? {
                    let s = x.as_str(k)?;
                    rule = rule.with_dst(s)?;
                }
            }
            "domains" => {
                for x in val.as_array(k)? {
                    rule = rule.with_domain_suffix(x.as_str(k)?);
                }
            }
            "processes" => {
                for x in val.as_array(k)? {
                    rule = rule.with_process(x.as_str(k)?);
                }
            }
            "ports" => {
                for x in val.as_array(k)? {
                    let (port, proto) = match x {
                        mini_json::Value::Num(n) => (*n, None),
                        mini_json::Value::Str(s) => {
                            let (p, pr) = match s.split_once('/') {
                                Some((p, pr)) => (p, Some(pr)),
                                None => (s.as_str(), None),
                            };
                            let n: f64 = p.trim().parse().map_err(|_| bad(format!("bad port {s:?}")))?;
                            let proto = match pr.map(|x| Proto::parse(x.trim())) {
                                Some(Proto::Other) => return Err(bad(format!("unknown protocol in {s:?}"))),
                                other => other,
                            };
                            (n, proto)
                        }
                        _ => return Err(bad("ports are numbers or \"port/proto\" strings".into())),
                    };
                    if !(0.0..=65535.0).contains(&port) || port.fract() != 0.0 {
                        return Err(bad(format!("port {port} out of range")));
                    }
                    rule = rule.with_port(port as u16, proto);
                }
            }
            k if k.starts_with('_') => {}
            k => return Err(bad(format!("unknown key {k:?}"))),
        }
    }
    Ok(rule)
}

/// Counts what the allowlist did, per rule, for a one-line report.
///
/// # Example
/// ```
/// use beaconstat::{allowlist::{Action, AllowlistSummary, Rule}};
/// let ntp = Rule::new("ntp", Action::Suppress).with_port(123, None);
/// let mon = Rule::new("monitoring", Action::Suppress).with_port(161, None);
/// let upd = Rule::new("windows-update", Action::Downrank(0.3)).with_domain_suffix("windowsupdate.com");
/// let mut s = AllowlistSummary::new();
/// for _ in 0..27 { s.record(&ntp); }
/// for _ in 0..20 { s.record(&mon); }
/// s.record(&upd);
/// assert_eq!(s.suppressed_total(), 47);
/// assert_eq!(
///     s.to_string(),
///     "47 periodic pairs suppressed by allowlist: ntp 27, monitoring 20; 1 downranked: windows-update 1"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AllowlistSummary {
    suppressed: BTreeMap<String, u64>,
    downranked: BTreeMap<String, u64>,
}

impl AllowlistSummary {
    /// An empty summary.
    pub fn new() -> Self {
        AllowlistSummary::default()
    }

    /// Counts one series matched by `rule`.
    pub fn record(&mut self, rule: &Rule) {
        let map = match rule.action {
            Action::Suppress => &mut self.suppressed,
            Action::Downrank(_) => &mut self.downranked,
        };
        match map.get_mut(rule.name.as_str()) {
            Some(n) => *n += 1,
            None => {
                map.insert(rule.name.clone(), 1);
            }
        }
    }

    /// Adds another summary's counts.
    pub fn merge(&mut self, other: &AllowlistSummary) {
        for (k, v) in &other.suppressed {
            *self.suppressed.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &other.downranked {
            *self.downranked.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// Series suppressed, in total.
    pub fn suppressed_total(&self) -> u64 {
        self.suppressed.values().sum()
    }

    /// Series downranked, in total.
    pub fn downranked_total(&self) -> u64 {
        self.downranked.values().sum()
    }

    /// Suppressed counts per rule, most first (ties by name).
    pub fn suppressed(&self) -> Vec<(&str, u64)> {
        sorted(&self.suppressed)
    }

    /// Downranked counts per rule, most first (ties by name).
    pub fn downranked(&self) -> Vec<(&str, u64)> {
        sorted(&self.downranked)
    }
}

fn sorted(m: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = m.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

impl fmt::Display for AllowlistSummary {
    /// `47 periodic pairs suppressed by allowlist: ntp 27, monitoring 20; 3 downranked: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.suppressed_total();
        write!(
            f,
            "{n} periodic {} suppressed by allowlist",
            if n == 1 { "pair" } else { "pairs" }
        )?;
        let mut sep = ": ";
        for (k, v) in self.suppressed() {
            write!(f, "{sep}{k} {v}")?;
            sep = ", ";
        }
        let d = self.downranked_total();
        if d > 0 {
            write!(f, "; {d} downranked")?;
            let mut sep = ": ";
            for (k, v) in self.downranked() {
                write!(f, "{sep}{k} {v}")?;
                sep = ", ";
            }
        }
        Ok(())
    }
}

/// A minimal JSON tree for configuration files (not for logs: it allocates freely), on the
/// crate's one JSON scanner.
mod mini_json {
    use super::{Error, Position, Result};
    use crate::json::{Literal, Scanner, Text};

    #[derive(Debug, Clone, PartialEq)]
    pub(super) enum Value {
        Null,
        Bool(bool),
        Num(f64),
        Str(String),
        Arr(Vec<Value>),
        Obj(Vec<(String, Value)>),
    }

    impl Value {
        fn kind(&self) -> &'static str {
            match self {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Num(_) => "a number",
                Value::Str(_) => "a string",
                Value::Arr(_) => "an array",
                Value::Obj(_) => "an object",
            }
        }
        fn wrong(&self, what: &str, want: &str) -> Error {
            Error::config("allowlist", format!("{what} must be {want}, not {}", self.kind()))
        }
        pub(super) fn as_object(&self, what: &str) -> Result<&[(String, Value)]> {
            match self {
                Value::Obj(o) => Ok(o),
                v => Err(v.wrong(what, "an object")),
            }
        }
        pub(super) fn as_array(&self, what: &str) -> Result<&[Value]> {
            match self {
                Value::Arr(a) => Ok(a),
                v => Err(v.wrong(what, "an array")),
            }
        }
        pub(super) fn as_str(&self, what: &str) -> Result<&str> {
            match self {
                Value::Str(s) => Ok(s),
                v => Err(v.wrong(what, "a string")),
            }
        }
        pub(super) fn as_f64(&self) -> Option<f64> {
            match self {
                Value::Num(n) => Some(*n),
                _ => None,
            }
        }
    }

    struct P<'a> {
        b: &'a [u8],
        i: usize,
        depth: usize,
    }

    pub(super) fn parse(text: &str) -> Result<Value> {
        let mut p = P {
            b: text.as_bytes(),
            i: 0,
            depth: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(p.err("trailing characters after the JSON value"));
        }
        Ok(v)
    }

    impl P<'_> {
        fn err(&self, reason: &str) -> Error {
            let upto = self.b.get(..self.i).unwrap_or(self.b);
            let line = 1 + upto.iter().filter(|&&c| c == b'\n').count() as u64;
            let pos = Position {
                line,
                byte: self.i as u64,
            };
            let near = self.b.get(self.i..self.b.len().min(self.i + 20));
            Error::parse(pos, Some("allowlist JSON"), near, reason)
        }
        fn ws(&mut self) {
            while let Some(c) = self.b.get(self.i) {
                if !c.is_ascii_whitespace() {
                    break;
                }
                self.i += 1;
            }
        }
        fn value(&mut self) -> Result<Value> {
            self.ws();
            self.depth += 1;
            if self.depth > 64 {
                return Err(self.err("nested too deeply"));
            }
            let v = match self.b.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut o = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                    } else {
                        loop {
                            self.ws();
                            let k = self.string()?;
                            self.ws();
                            if self.b.get(self.i) != Some(&b':') {
                                return Err(self.err("expected ':'"));
                            }
                            self.i += 1;
                            let v = self.value()?;
                            o.push((k, v));
                            self.ws();
                            match self.b.get(self.i) {
                                Some(b',') => self.i += 1,
                                Some(b'}') => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return Err(self.err("expected ',' or '}'")),
                            }
                        }
                    }
                    Value::Obj(o)
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                    } else {
                        loop {
                            a.push(self.value()?);
                            self.ws();
                            match self.b.get(self.i) {
                                Some(b',') => self.i += 1,
                                Some(b']') => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return Err(self.err("expected ',' or ']'")),
                            }
                        }
                    }
                    Value::Arr(a)
                }
                Some(b'"') => Value::Str(self.string()?),
                Some(b't' | b'f' | b'n') => {
                    let mut sc = Scanner::new(self.b);
                    sc.i = self.i;
                    let lit = sc.literal().map_err(|_| self.err("unexpected characters"))?;
                    self.i = sc.i;
                    match lit {
                        Literal::True => Value::Bool(true),
                        Literal::False => Value::Bool(false),
                        Literal::Null => Value::Null,
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    let mut sc = Scanner::new(self.b);
                    sc.i = self.i;
                    let (s, e) = sc.number();
                    self.i = e;
                    let t = core::str::from_utf8(&self.b[s..e]).unwrap_or("");
                    Value::Num(t.parse().map_err(|_| self.err("bad number"))?)
                }
                _ => return Err(self.err("expected a JSON value")),
            };
            self.depth -= 1;
            Ok(v)
        }
        fn string(&mut self) -> Result<String> {
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a string"));
            }
            let mut sc = Scanner::new(self.b);
            sc.i = self.i;
            let mut out = String::new();
            match sc.string(&mut out) {
                Ok(Text::Input(a, b)) => {
                    self.i = sc.i;
                    let s = self.b.get(a..b).and_then(|s| core::str::from_utf8(s).ok());
                    s.map(str::to_owned).ok_or_else(|| self.err("invalid UTF-8 in string"))
                }
                Ok(Text::Scratch(..)) => {
                    self.i = sc.i;
                    Ok(out)
                }
                Err(e) => {
                    self.i = e.offset;
                    Err(self.err(e.reason))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_parse_and_behave() {
        let list = Allowlist::from_json(DEFAULT_JSON).unwrap();
        assert_eq!(list, Allowlist::default_rules());
        let names: Vec<_> = list.rules().iter().map(Rule::name).collect();
        assert_eq!(
            names,
            [
                "ntp",
                "dhcp",
                "local-discovery",
                "monitoring",
                "windows-update",
                "microsoft-telemetry",
                "security-agents"
            ]
        );
        let m = |k: SeriesKey<'_>, p: Option<Proto>| list.match_key(&k, p).map(|r| r.name().to_owned());
        // NTP on udp (or unknown proto), not tcp.
        assert_eq!(
            m(
                SeriesKey::pair("a", "216.239.35.4").with_dst_port(123),
                Some(Proto::Udp)
            )
            .as_deref(),
            Some("ntp")
        );
        assert_eq!(
            m(SeriesKey::pair("a", "216.239.35.4").with_dst_port(123), None).as_deref(),
            Some("ntp")
        );
        assert_eq!(
            m(
                SeriesKey::pair("a", "216.239.35.4").with_dst_port(123),
                Some(Proto::Tcp)
            ),
            None
        );
        // DNS to an internal resolver is not allowlisted.
        assert_eq!(
            m(
                SeriesKey::pair("10.0.0.5", "10.0.0.53").with_dst_port(53),
                Some(Proto::Udp)
            ),
            None
        );
        // Multicast v4 and v6, broadcast.
        assert_eq!(
            m(SeriesKey::pair("a", "239.255.255.250"), None).as_deref(),
            Some("local-discovery")
        );
        assert_eq!(
            m(SeriesKey::pair("a", "ff02::16"), None).as_deref(),
            Some("local-discovery")
        );
        assert_eq!(
            m(SeriesKey::pair("a", "255.255.255.255"), None).as_deref(),
            Some("local-discovery")
        );
        assert_eq!(m(SeriesKey::pair("a", "223.255.255.255"), None), None);
        // Monitoring needs an internal destination AND a monitoring port.
        let snmp = SeriesKey::pair("10.0.0.2", "172.20.1.1").with_dst_port(161);
        assert_eq!(m(snmp, Some(Proto::Udp)).as_deref(), Some("monitoring"));
        assert_eq!(m(SeriesKey::pair("10.0.0.2", "8.8.8.8").with_dst_port(161), None), None);
        assert_eq!(
            m(SeriesKey::pair("10.0.0.2", "172.20.1.1").with_dst_port(443), None),
            None
        );
        // Domains at label boundaries, via name or a host-name dst.
        let wu = SeriesKey::pair("a", "13.107.4.50").with_name("FE2.update.microsoft.com.");
        assert_eq!(m(wu, None).as_deref(), Some("windows-update"));
        assert_eq!(
            m(SeriesKey::pair("a", "x.windowsupdate.com"), None).as_deref(),
            Some("windows-update")
        );
        assert_eq!(m(SeriesKey::pair("a", "evilwindowsupdate.com"), None), None);
        // Processes by file name, case-insensitive.
        let edr = SeriesKey::empty().with_process(r"C:\ProgramData\Microsoft\Windows Defender\Platform\msmpeng.EXE");
        let r = list.match_key(&edr, None).unwrap();
        assert_eq!((r.name(), r.action()), ("security-agents", Action::Downrank(0.5)));
        assert_eq!(m(SeriesKey::empty().with_process("powershell.exe"), None), None);
    }

    #[test]
    fn cidr_edges() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.255.255.255".parse().unwrap()));
        assert!(!c.contains("11.0.0.0".parse().unwrap()));
        assert!(!c.contains("::ffff:10.0.0.1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        let v6 = Cidr::parse("fc00::/7").unwrap();
        assert!(v6.contains("fd2d:ab8c:225::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        assert_eq!(Cidr::parse("1.2.3.4").unwrap().prefix, 32);
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn config_errors_are_readable() {
        let e = |s: &str| Allowlist::from_json(s).unwrap_err().to_string();
        assert!(e(r#"{"rules":[{"name":"x","action":"suppress"}]}"#).contains("no ips"));
        assert!(e(r#"{"rules":[{"name":"x","action":"downrank","factor":2,"ports":[1]}]}"#).contains("(0, 1]"));
        assert!(
            e(r#"{"rules":[{"name":"x","action":"suppress","cidr":["1.2.3.4"]}]}"#).contains("unknown key \"cidr\"")
        );
        assert!(e(r#"{"rules":[{"name":"x","action":"suppress","ports":["70000"]}]}"#).contains("out of range"));
        assert!(e(r#"{"rules":[{"name":"x","action":"suppress","ports":["53/xyz"]}]}"#).contains("unknown protocol"));
        assert!(
            e(r#"{"rules":[{"name":"x","action":"suppress","cidrs":["10.0.0.0/99"]}]}"#).contains("bad IP or CIDR")
        );
        assert!(e(r#"{"rules":[{"name":"x","action":"block","ports":[1]}]}"#).contains("unknown action"));
        let syntax = e("{\n\"rules\": [\n  {\"name\": \"x\",}\n]}");
        assert!(syntax.contains("line 3"), "{syntax}");
        assert!(e("[]").contains("must be an object"));
    }

    #[test]
    fn summary_orders_by_count() {
        let a = Rule::new("a", Action::Suppress).with_port(1, None);
        let b = Rule::new("b", Action::Suppress).with_port(2, None);
        let mut s = AllowlistSummary::new();
        assert_eq!(s.to_string(), "0 periodic pairs suppressed by allowlist");
        s.record(&a);
        s.record(&b);
        s.record(&b);
        assert_eq!(s.suppressed(), [("b", 2), ("a", 1)]);
        let mut t = AllowlistSummary::new();
        t.merge(&s);
        t.merge(&s);
        assert_eq!(t.to_string(), "6 periodic pairs suppressed by allowlist: b 4, a 2");
    }
}
