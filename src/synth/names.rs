//! Generated Zeek `conn.log` + `dns.log` + `ssl.log` for name resolution: browsing hosts whose
//! names share CDN addresses, a beacon whose destination address rotates over a CDN pool (so
//! no (src, dst) pair looks periodic), a DNS tunnel, and a benign periodic lookup.

use super::Rng;
use core::fmt::Write;

/// What a [`NameLogs`] contains that a detector should find.
///
/// # Example
/// ```
/// use beaconstat::synth::NameLogs;
/// let t = NameLogs::builder().hosts(2).days(0.1).build().truth;
/// assert_eq!((t.beacon_name.as_str(), t.beacon_period_s), ("update.cdn-sync.net", 300.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NameTruth {
    /// The rotating-address beacon's source.
    pub beacon_src: String,
    /// The name it resolves before each check-in.
    pub beacon_name: String,
    /// Its sleep in seconds (±20% uniform jitter).
    pub beacon_period_s: f64,
    /// How many addresses it rotates over.
    pub beacon_ips: usize,
    /// The DNS tunnel's source.
    pub tunnel_src: String,
    /// The tunnel's registered domain (queries are `<random>.t.<domain>`).
    pub tunnel_domain: String,
    /// Its query period in seconds (±30% uniform jitter).
    pub tunnel_period_s: f64,
    /// A host that looks up a benign name periodically (not a tunnel).
    pub periodic_lookup_src: String,
}

/// Generated logs as Zeek TSV text.
///
/// # Example
/// ```
/// use beaconstat::synth::NameLogs;
/// let logs = NameLogs::builder().hosts(5).days(0.25).build();
/// assert!(logs.conn.starts_with("#separator"));
/// assert!(logs.dns.contains("#path\tdns"));
/// assert!(logs.conn_records > 0 && logs.dns_records > 0);
/// assert_eq!(logs.truth.beacon_ips, 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NameLogs {
    /// `conn.log`.
    pub conn: String,
    /// `dns.log`.
    pub dns: String,
    /// `ssl.log` (SNI for about half of the browsing connections).
    pub ssl: String,
    /// Records in `conn.log`.
    pub conn_records: usize,
    /// Records in `dns.log`.
    pub dns_records: usize,
    /// The planted activity.
    pub truth: NameTruth,
}

/// Builds [`NameLogs`].
///
/// # Example
/// ```
/// use beaconstat::synth::NameLogs;
/// let a = NameLogs::builder().seed(3).hosts(4).days(0.1).build();
/// let b = NameLogs::builder().seed(3).hosts(4).days(0.1).build();
/// assert_eq!(a.conn, b.conn); // deterministic
/// ```
#[derive(Debug, Clone)]
pub struct NameLogsBuilder {
    seed: u64,
    hosts: u32,
    days: f64,
    sessions_per_host_day: usize,
    start_s: f64,
}

impl Default for NameLogsBuilder {
    fn default() -> Self {
        NameLogsBuilder {
            seed: 42,
            hosts: 40,
            days: 1.0,
            sessions_per_host_day: 150,
            start_s: 1_700_000_000.0,
        }
    }
}

impl NameLogsBuilder {
    /// Random seed.
    pub fn seed(&mut self, s: u64) -> &mut Self {
        self.seed = s;
        self
    }
    /// Browsing hosts (besides the planted ones).
    pub fn hosts(&mut self, n: u32) -> &mut Self {
        self.hosts = n;
        self
    }
    /// Capture length in days.
    pub fn days(&mut self, d: f64) -> &mut Self {
        self.days = d.max(0.01);
        self
    }
    /// Browsing sessions per host and day (each: one lookup, 1–6 connections).
    pub fn sessions_per_host_day(&mut self, n: usize) -> &mut Self {
        self.sessions_per_host_day = n;
        self
    }
    /// Generates the logs.
    pub fn build(&self) -> NameLogs {
        generate(self)
    }
}

impl NameLogs {
    /// A builder with the defaults (40 hosts, 1 day, seed 42).
    pub fn builder() -> NameLogsBuilder {
        NameLogsBuilder::default()
    }
}

const HDR: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n";

struct Gen {
    rng: Rng,
    uid: u64,
    conn: Vec<(f64, String)>,
    dns: Vec<(f64, String)>,
    ssl: Vec<(f64, String)>,
}

impl Gen {
    fn uid(&mut self) -> String {
        self.uid += 1;
        format!(
            "C{:016x}",
            self.uid.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.rng.next_u64() >> 8
        )
    }
    fn dns(&mut self, t: f64, src: &str, query: &str, qtype: &str, answers: &[&str], ttl: f64) {
        let uid = self.uid();
        let ans = if answers.is_empty() {
            "-".to_string()
        } else {
            answers.join(",")
        };
        let ttls = if answers.is_empty() {
            "-".to_string()
        } else {
            vec![format!("{ttl:.6}"); answers.len()].join(",")
        };
        let rcode = if answers.is_empty() && qtype != "TXT" {
            "NXDOMAIN"
        } else {
            "NOERROR"
        };
        let sport = 1024 + self.rng.below(60000);
        self.dns.push((
            t,
            format!("{t:.6}\t{uid}\t{src}\t{sport}\t10.0.0.53\t53\tudp\t{qtype}\t{query}\t{rcode}\t{ans}\t{ttls}"),
        ));
    }
    fn conn(&mut self, t: f64, src: &str, dst: &str, port: u16, sni: Option<&str>) {
        let uid = self.uid();
        let sport = 1024 + self.rng.below(60000);
        let dur = 0.05 + self.rng.exponential(2.0);
        let ob = 300 + self.rng.below(2000);
        let ib = 1000 + self.rng.below(50_000);
        self.conn.push((
            t,
            format!("{t:.6}\t{uid}\t{src}\t{sport}\t{dst}\t{port}\ttcp\tssl\t{dur:.6}\t{ob}\t{ib}\tSF"),
        ));
        if let Some(name) = sni {
            self.ssl.push((
                t + 0.02,
                format!("{:.6}\t{uid}\t{src}\t{sport}\t{dst}\t{port}\tTLSv13\t{name}", t + 0.02),
            ));
        }
    }
}

fn render(header: &str, mut rows: Vec<(f64, String)>) -> (String, usize) {
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut s = String::with_capacity(header.len() + rows.iter().map(|r| r.1.len() + 1).sum::<usize>());
    s.push_str(HDR);
    s.push_str(header);
    for (_, r) in &rows {
        s.push_str(r);
        s.push('\n');
    }
    (s, rows.len())
}

fn ip(prefix: &str, i: u64) -> String {
    format!("{prefix}.{}.{}", (i / 250) % 250, 1 + i % 250)
}

fn generate(b: &NameLogsBuilder) -> NameLogs {
    let mut g = Gen {
        rng: Rng::new(b.seed),
        uid: 0,
        conn: Vec::new(),
        dns: Vec::new(),
        ssl: Vec::new(),
    };
    let start = b.start_s;
    let end = start + b.days * 86_400.0;
    // Benign names: a shared CDN pool of 60 addresses, each name on 1–4 of them (so one
    // address serves several names), plus names on their own addresses.
    let cdn: Vec<String> = (0..60).map(|i| ip("203.0", i)).collect();
    let words = [
        "www", "api", "static", "img", "cdn", "login", "mail", "news", "video", "docs", "update", "assets",
    ];
    let sites = [
        "example.com",
        "example.org",
        "shop.example.co.uk",
        "news.example.net",
        "video.example.io",
        "cloud.example.com",
        "social.example.org",
        "search.example.com",
    ];
    let mut names: Vec<(String, Vec<String>, f64)> = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        for (j, w) in words.iter().enumerate().take(3 + i % 4) {
            let n = format!("{w}.{site}");
            let k = 1 + g.rng.below(4) as usize;
            let ips: Vec<String> = if (i + j) % 3 == 0 {
                (0..k).map(|m| ip("192.0", (i * 16 + j * 4 + m) as u64)).collect()
            } else {
                (0..k)
                    .map(|_| cdn[g.rng.below(cdn.len() as u64) as usize].clone())
                    .collect()
            };
            let ttl = [60.0, 300.0, 3600.0][g.rng.below(3) as usize];
            names.push((n, ips, ttl));
        }
    }
    // Browsing.
    let sessions = (b.sessions_per_host_day as f64 * b.days) as usize;
    for h in 0..u64::from(b.hosts) {
        let src = ip("10.1", 100 + h);
        let mut t = start;
        for _ in 0..sessions {
            t += g.rng.exponential(86_400.0 * b.days / sessions.max(1) as f64);
            if t >= end {
                break;
            }
            let (name, ips, ttl) = names[g.rng.below(names.len() as u64) as usize].clone();
            let refs: Vec<&str> = ips.iter().map(String::as_str).collect();
            g.dns(t, &src, &name, "A", &refs, ttl);
            let mut c = t + 0.01 + g.rng.uniform() * 0.05;
            for _ in 0..1 + g.rng.below(6) {
                let dst = &ips[g.rng.below(ips.len() as u64) as usize];
                let sni = g.rng.chance(0.5).then_some(name.as_str());
                g.conn(c, &src, dst, 443, sni);
                c += g.rng.exponential(5.0);
            }
        }
    }
    // The rotating-address beacon: resolves before each check-in (TTL 60 s), connects to
    // the one address answered, which changes every 1–2 check-ins; no SNI logged.
    let truth = NameTruth {
        beacon_src: "10.1.0.66".into(),
        beacon_name: "update.cdn-sync.net".into(),
        beacon_period_s: 300.0,
        beacon_ips: 20,
        tunnel_src: "10.1.0.77".into(),
        tunnel_domain: "exfil-dns.org".into(),
        tunnel_period_s: 30.0,
        periodic_lookup_src: "10.1.0.88".into(),
    };
    let pool: Vec<String> = (0..truth.beacon_ips as u64).map(|i| ip("198.18", 7 * i + 3)).collect();
    let mut t = start + g.rng.uniform() * 300.0;
    let mut cur = 0usize;
    let mut left = 0u64;
    while t < end {
        if left == 0 {
            cur = g.rng.below(pool.len() as u64) as usize;
            left = 1 + g.rng.below(2);
        }
        left -= 1;
        let dst = pool[cur].clone();
        g.dns(t, &truth.beacon_src, &truth.beacon_name, "A", &[&dst], 60.0);
        g.conn(t + 0.03, &truth.beacon_src, &dst, 443, None);
        t += truth.beacon_period_s * (1.0 + 0.2 * (2.0 * g.rng.uniform() - 1.0));
    }
    // The DNS tunnel: 40-character base32 labels under t.exfil-dns.org, for six hours.
    let mut t = start + 3600.0;
    let tunnel_end = (t + 6.0 * 3600.0).min(end);
    while t < tunnel_end {
        let label: String = (0..40)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz234567"[g.rng.below(32) as usize]))
            .collect();
        let q = format!("{label}.t.{}", truth.tunnel_domain);
        g.dns(t, &truth.tunnel_src, &q, "TXT", &[], 0.0);
        t += truth.tunnel_period_s * (1.0 + 0.3 * (2.0 * g.rng.uniform() - 1.0));
    }
    // A benign periodic lookup (hourly time sync).
    let mut t = start + 100.0;
    while t < end {
        g.dns(
            t,
            &truth.periodic_lookup_src,
            "time.example.com",
            "A",
            &["192.0.2.123"],
            3600.0,
        );
        t += 3600.0;
    }
    let (conn, conn_records) = render(
        "#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n",
        core::mem::take(&mut g.conn),
    );
    let (dns, dns_records) = render(
        "#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tqtype_name\tquery\trcode_name\tanswers\tTTLs\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\tvector[string]\tvector[interval]\n",
        core::mem::take(&mut g.dns),
    );
    let (ssl, _) = render(
        "#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tserver_name\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\n",
        core::mem::take(&mut g.ssl),
    );
    let mut conn_out = conn;
    let _ = writeln!(conn_out, "#close\t-");
    NameLogs {
        conn: conn_out,
        dns,
        ssl,
        conn_records,
        dns_records,
        truth,
    }
}
