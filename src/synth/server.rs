//! An internet-facing server's traffic: hundreds of external sources brute-forcing SSH at a
//! steady pace, port scans, scheduled re-scans, uptime probes, web clients, the server's own
//! benign automation, and one planted outbound HTTP beacon every 200–350 s.
//!
//! The hard case for a periodicity ranker: most regular traffic here is inbound and many-to-one,
//! and would fill a ranked list if direction and fan-in were ignored.

use super::{BeaconSpec, Jitter, Rng, poisson};
use crate::event::{ConnEvent, Proto};
use crate::time::{Interval, Timestamp};
use core::fmt::Write as _;

/// What was planted, for tests to check against.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerTruth {
    /// The server's (public) address; Zeek marks it local (`local_orig`/`local_resp`).
    pub server: String,
    /// The beacon's destination.
    pub beacon_dst: String,
    /// The beacon's destination port.
    pub beacon_port: u16,
    /// The beacon's mean interval, seconds.
    pub beacon_period_s: f64,
    /// The brute-forced port.
    pub ssh_port: u16,
    /// How many external sources brute-force it.
    pub brute_forcers: usize,
    /// The benign periodic outbound series: (destination, port, what).
    pub benign_outbound: Vec<(String, u16, &'static str)>,
}

/// Builder for [`ServerScenario`].
#[derive(Debug, Clone)]
pub struct ServerScenarioBuilder {
    days: f64,
    brute_forcers: usize,
    scanners: usize,
    seed: u64,
    start_us: i64,
}

impl Default for ServerScenarioBuilder {
    fn default() -> Self {
        ServerScenarioBuilder {
            days: 3.0,
            brute_forcers: 420,
            scanners: 30,
            seed: 16,
            start_us: 1_709_251_200_000_000, // 2024-03-01T00:00:00Z
        }
    }
}

impl ServerScenarioBuilder {
    /// Capture length in days (default 3).
    pub fn days(mut self, d: f64) -> Self {
        self.days = d.max(0.1);
        self
    }
    /// External sources brute-forcing SSH (default 420).
    pub fn brute_forcers(mut self, n: usize) -> Self {
        self.brute_forcers = n;
        self
    }
    /// External port scanners, each sweeping a thousand ports once (default 30).
    pub fn scanners(mut self, n: usize) -> Self {
        self.scanners = n;
        self
    }
    /// Random seed (default 16).
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }

    /// Generates the traffic.
    pub fn build(self) -> ServerScenario {
        Generator::new(&self).run(&self)
    }
}

/// One connection (addresses as IPv4 numbers).
#[derive(Debug, Clone, Copy)]
struct Conn {
    ts: i64,
    src: u32,
    sport: u16,
    dst: u32,
    dport: u16,
    udp: bool,
    bytes_out: u64,
    bytes_in: u64,
}

/// A generated internet-facing server capture, as connection events or a Zeek `conn.log`
/// (with `local_orig`/`local_resp` as a Zeek whose `Site::local_nets` holds the server).
///
/// # Example
/// ```
/// use beaconstat::synth::ServerScenario;
/// let s = ServerScenario::builder().days(0.5).brute_forcers(50).build();
/// let t = s.truth();
/// assert_eq!(t.ssh_port, 22);
/// let mut n = 0;
/// s.for_each_event(|ev| {
///     n += 1;
///     assert!(ev.src == t.server || ev.dst == t.server);
///     assert_eq!(ev.local_orig, Some(ev.src == t.server));
/// });
/// assert_eq!(n, s.len());
/// assert!(s.to_zeek_tsv().contains("\tlocal_orig\tlocal_resp"));
/// ```
#[derive(Debug, Clone)]
pub struct ServerScenario {
    conns: Vec<Conn>,
    server: u32,
    truth: ServerTruth,
}

struct Generator {
    rng: Rng,
    t0: i64,
    span_s: f64,
    conns: Vec<Conn>,
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

fn ip_str(v: u32) -> String {
    let [a, b, c, d] = v.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

impl Generator {
    fn new(b: &ServerScenarioBuilder) -> Self {
        Generator {
            rng: Rng::new(b.seed ^ 0x5E4E_0016),
            t0: b.start_us,
            span_s: b.days * 86_400.0,
            conns: Vec::new(),
        }
    }

    /// A public-looking address (outside private, loopback, CGNAT, multicast and the
    /// documentation ranges the scenario uses for its own hosts).
    fn external(&mut self) -> u32 {
        loop {
            let a = 1 + self.rng.below(222) as u8;
            if matches!(a, 10 | 100 | 127 | 169 | 172 | 192 | 198 | 203) {
                continue;
            }
            let v = ip(
                a,
                self.rng.below(256) as u8,
                self.rng.below(256) as u8,
                1 + self.rng.below(254) as u8,
            );
            return v;
        }
    }

    fn push(&mut self, ts: &[i64], src: u32, dst: u32, dport: u16, udp: bool, size: (u64, u64)) {
        let end = self.t0 + (self.span_s * 1e6) as i64;
        for &t in ts {
            if t < self.t0 || t > end {
                continue;
            }
            let sport = 32_768 + self.rng.below(28_000) as u16;
            let bytes_out = size.0 + self.rng.below(size.1.max(1));
            let bytes_in = 100 + self.rng.below(2_000);
            self.conns.push(Conn {
                ts: t,
                src,
                sport,
                dst,
                dport,
                udp,
                bytes_out,
                bytes_in,
            });
        }
    }

    fn run(mut self, b: &ServerScenarioBuilder) -> ServerScenario {
        let server = ip(203, 0, 113, 10);
        let span = self.span_s;
        let t0 = self.t0;
        let at = move |s: f64| t0 + (s * 1e6) as i64;

        // SSH brute force: each source attempts at its own steady pace (4–30 s, ±10%) for a
        // session of ten minutes to a day; a third come back for a second session.
        for _ in 0..b.brute_forcers {
            let src = self.external();
            let sessions = if self.rng.chance(0.33) { 2 } else { 1 };
            for _ in 0..sessions {
                let pace = 4.0 + 26.0 * self.rng.uniform();
                let length = self.rng.exponential(2.0 * 3600.0).clamp(600.0, 86_400.0);
                let start = self.rng.uniform() * span;
                let n = (length / pace) as usize;
                let ts = BeaconSpec::new(pace, n)
                    .jitter(Jitter::Uniform(0.1))
                    .generate(&mut self.rng, at(start));
                self.push(&ts, src, server, 22, false, (1_200, 600));
            }
        }
        // Port scans: a thousand ports, once each, a few milliseconds apart.
        for _ in 0..b.scanners {
            let src = self.external();
            let start = self.rng.uniform() * span;
            let mut t = at(start);
            for _ in 0..1000 {
                let port = 1 + self.rng.below(65_535) as u16;
                t += 2_000 + self.rng.below(20_000) as i64;
                self.push(&[t], src, server, port, false, (0, 1));
            }
        }
        // Scheduled re-scans (internet survey services): five ports every hour.
        for _ in 0..10 {
            let src = self.external();
            let offset = self.rng.uniform() * 3600.0;
            for port in [22u16, 80, 443, 3389, 8080] {
                let ts = BeaconSpec::new(3600.0, (span / 3600.0) as usize)
                    .jitter(Jitter::Uniform(0.01))
                    .generate(&mut self.rng, at(offset + f64::from(port % 7)));
                self.push(&ts, src, server, port, false, (60, 40));
            }
        }
        // Uptime monitors: HTTPS every 60 s from five probe sites.
        for _ in 0..5 {
            let src = self.external();
            let ts = BeaconSpec::new(60.0, (span / 60.0) as usize)
                .jitter(Jitter::Uniform(0.005))
                .generate(&mut self.rng, at(59.0 * f64::from(src % 61) / 60.0));
            self.push(&ts, src, server, 443, false, (300, 50));
        }
        // Web clients: a few requests each, at random.
        for _ in 0..1500 {
            let src = self.external();
            let n = 1 + self.rng.below(12) as usize;
            let start = self.rng.uniform() * span;
            let ts = poisson(&mut self.rng, n, 40.0, at(start));
            self.push(&ts, src, server, 443, false, (600, 3_000));
        }

        // The server's own outbound traffic.
        let resolver = ip(9, 9, 9, 9);
        let ntp = ip(162, 159, 200, 1);
        let mirror = ip(91, 189, 91, 81);
        let metrics = ip(198, 51, 100, 200);
        let c2 = ip(198, 51, 100, 77);
        let ts = poisson(&mut self.rng, (600.0 * b.days) as usize, 86_400.0 / 600.0, self.t0);
        self.push(&ts, server, resolver, 53, true, (40, 30));
        let ts = BeaconSpec::new(1024.0, (span / 1024.0) as usize)
            .jitter(Jitter::Uniform(0.02))
            .generate(&mut self.rng, self.t0);
        self.push(&ts, server, ntp, 123, true, (48, 1));
        // Package index refresh: twice a day ±30 min, a few connections each.
        let ts = BeaconSpec::new(43_200.0, (span / 43_200.0) as usize)
            .jitter(Jitter::Uniform(0.04))
            .burst(3, 2.0)
            .generate(&mut self.rng, at(6.0 * 3600.0));
        self.push(&ts, server, mirror, 80, false, (300, 100));
        // A metrics agent pushing every 30 s (benign, periodic, outbound).
        let ts = BeaconSpec::new(30.0, (span / 30.0) as usize)
            .jitter(Jitter::Uniform(0.02))
            .generate(&mut self.rng, at(7.0));
        self.push(&ts, server, metrics, 8443, false, (1_500, 200));
        // API calls to a handful of services, at random.
        for _ in 0..20 {
            let dst = self.external();
            let n = 5 + self.rng.below(40) as usize;
            let ts = poisson(&mut self.rng, n, span / n as f64, self.t0);
            self.push(&ts, server, dst, 443, false, (800, 4_000));
        }
        // The planted beacon: HTTP every 200–350 s for the whole capture.
        let ts = BeaconSpec::new(275.0, (span / 275.0) as usize)
            .jitter(Jitter::Uniform(75.0 / 275.0))
            .generate(&mut self.rng, at(900.0));
        self.push(&ts, server, c2, 80, false, (420, 40));

        self.conns.sort_by_key(|c| (c.ts, c.src, c.dst, c.dport));
        ServerScenario {
            conns: self.conns,
            server,
            truth: ServerTruth {
                server: ip_str(server),
                beacon_dst: ip_str(c2),
                beacon_port: 80,
                beacon_period_s: 275.0,
                ssh_port: 22,
                brute_forcers: b.brute_forcers,
                benign_outbound: vec![
                    (ip_str(metrics), 8443, "metrics agent every 30 s"),
                    (ip_str(mirror), 80, "package index twice a day"),
                    (ip_str(ntp), 123, "ntp every 1024 s"),
                ],
            },
        }
    }
}

impl ServerScenario {
    /// A builder with the defaults (3 days, 420 brute-forcers, 30 scanners).
    pub fn builder() -> ServerScenarioBuilder {
        ServerScenarioBuilder::default()
    }

    /// Number of connections.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether there are no connections.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// What was planted.
    pub fn truth(&self) -> &ServerTruth {
        &self.truth
    }

    /// Calls `f` with every connection in time order, `local_orig`/`local_resp` set as Zeek
    /// would with the server in `Site::local_nets`.
    pub fn for_each_event(&self, mut f: impl FnMut(&ConnEvent<'_>)) {
        let mut src = String::new();
        let mut dst = String::new();
        for c in &self.conns {
            src.clear();
            dst.clear();
            let _ = write!(src, "{}", std::net::Ipv4Addr::from(c.src));
            let _ = write!(dst, "{}", std::net::Ipv4Addr::from(c.dst));
            let ev = ConnEvent::new(Timestamp(c.ts), &src, &dst)
                .with_src_port(c.sport)
                .with_dst_port(c.dport)
                .with_proto(if c.udp { Proto::Udp } else { Proto::Tcp })
                .with_bytes(c.bytes_out, c.bytes_in)
                .with_duration(Interval::from_micros(50_000))
                .with_locality(c.src == self.server, c.dst == self.server);
            f(&ev);
        }
    }

    /// The capture as a Zeek `conn.log` (TSV, header included, `local_orig`/`local_resp` set).
    pub fn to_zeek_tsv(&self) -> String {
        let mut out = String::with_capacity(self.conns.len() * 120 + 1024);
        out.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n");
        out.push_str(
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\n",
        );
        out.push_str(
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\n",
        );
        let flag = |b: bool| if b { 'T' } else { 'F' };
        for (i, c) in self.conns.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}.{:06}\tCs{i:x}\t{}\t{}\t{}\t{}\t{}\t-\t0.050000\t{}\t{}\tSF\t{}\t{}",
                c.ts.div_euclid(1_000_000),
                c.ts.rem_euclid(1_000_000),
                std::net::Ipv4Addr::from(c.src),
                c.sport,
                std::net::Ipv4Addr::from(c.dst),
                c.dport,
                if c.udp { "udp" } else { "tcp" },
                c.bytes_out,
                c.bytes_in,
                flag(c.src == self.server),
                flag(c.dst == self.server),
            );
        }
        out
    }
}
