//! A whole network's Zeek `conn.log`: hosts browsing, chatty Poisson services, benign periodic
//! automation (NTP, updates, monitoring) and a handful of beacons in different styles, with the
//! ground truth of which pairs are which.

use super::{BeaconSpec, Jitter, Rng, browsing, poisson};
use core::fmt::Write as _;

/// What a ground-truth pair is.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TruthKind {
    /// A command-and-control beacon, with a short description of its style.
    Beacon(String),
    /// Expected automation that is periodic too (the allowlist's business), with its name.
    BenignPeriodic(String),
}

/// One pair of the scenario whose nature is known.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Truth {
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Destination port.
    pub dst_port: u16,
    /// What it is.
    pub kind: TruthKind,
    /// Mean interval between check-ins, seconds.
    pub period_s: f64,
}

/// A generated network, ready to be written as a Zeek conn.log.
///
/// # Example
/// ```
/// use beaconstat::synth::Scenario;
/// let s = Scenario::builder().hosts(20).days(1.0).seed(3).build();
/// let log = s.to_zeek_tsv();
/// assert!(log.starts_with("#separator \\x09\n"));
/// assert!(s.truth().iter().any(|t| matches!(t.kind, beaconstat::synth::TruthKind::Beacon(_))));
/// assert_eq!(log.lines().filter(|l| !l.starts_with('#')).count(), s.len());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    conns: Vec<Conn>,
    truth: Vec<Truth>,
    start_us: i64,
}

/// One generated connection (a conn.log row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Conn {
    pub ts: i64,
    pub src: u32,
    pub sport: u16,
    pub dst: u32,
    pub dport: u16,
    pub proto: u8, // 6 tcp, 17 udp
    pub duration_us: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
}

/// Builder for [`Scenario`]; defaults give the `hunt` example's bundled dataset (about 150 000
/// connections over three days from 200 hosts, 35 MB of TSV).
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioBuilder {
    hosts: u32,
    days: f64,
    seed: u64,
    start_us: i64,
    browsing_per_host_day: usize,
    web_servers: usize,
}

impl Default for ScenarioBuilder {
    fn default() -> Self {
        ScenarioBuilder {
            hosts: 200,
            days: 3.0,
            seed: 2024,
            start_us: 1_704_067_200_000_000,
            browsing_per_host_day: 200,
            web_servers: 2000,
        }
    }
}

impl ScenarioBuilder {
    /// Number of internal hosts (at least 10).
    pub fn hosts(&mut self, n: u32) -> &mut Self {
        self.hosts = n.max(10);
        self
    }
    /// Length of the capture in days.
    pub fn days(&mut self, d: f64) -> &mut Self {
        self.days = d.clamp(0.05, 365.0);
        self
    }
    /// Random seed.
    pub fn seed(&mut self, s: u64) -> &mut Self {
        self.seed = s;
        self
    }
    /// Start of the capture, µs since the epoch (default 2024-01-01T00:00:00Z).
    pub fn start_us(&mut self, t: i64) -> &mut Self {
        self.start_us = t;
        self
    }
    /// Browsing connections per host per day (the bulk of the volume; default 200).
    pub fn browsing_per_host_day(&mut self, n: usize) -> &mut Self {
        self.browsing_per_host_day = n;
        self
    }

    /// Number of distinct web servers browsed (popularity is skewed; default 2000). Fewer
    /// servers give fewer, longer series.
    pub fn web_servers(&mut self, n: usize) -> &mut Self {
        self.web_servers = n.max(1);
        self
    }

    /// Generates the scenario.
    pub fn build(&self) -> Scenario {
        let mut rng = Rng::new(self.seed);
        let mut conns = Vec::new();
        let mut truth = Vec::new();
        let span_s = self.days * 86_400.0;
        let t0 = self.start_us;
        let host = |i: u32| 0x0A00_0000 | (((i / 250) + 1) << 8) | ((i % 250) + 10);
        let web_servers: Vec<u32> = (0..self.web_servers).map(|_| external(&mut rng)).collect();
        let resolver = 0x0A00_0002;
        let collector = 0x0A00_0005;
        let ntp_pool = [ip(162, 159, 200, 1), ip(162, 159, 200, 123), ip(129, 6, 15, 28)];
        let update = ip(13, 107, 4, 50);

        let push_series =
            |conns: &mut Vec<Conn>, rng: &mut Rng, ts: &[i64], src, dst, dport, proto, size: (u64, u64)| {
                for &t in ts {
                    if t < t0 || t > t0 + (span_s * 1e6) as i64 {
                        continue;
                    }
                    let jitter_bytes = rng.below(size.1.max(1));
                    conns.push(Conn {
                        ts: t,
                        src,
                        sport: 49_152 + rng.below(16_000) as u16,
                        dst,
                        dport,
                        proto,
                        duration_us: 20_000 + rng.below(400_000),
                        bytes_out: size.0 + jitter_bytes,
                        bytes_in: 200 + rng.below(5_000),
                    });
                }
            };

        for h in 0..self.hosts {
            let src = host(h);
            // Browsing: sessions of clicks to popular (Zipf-like) web servers.
            let n = (self.browsing_per_host_day as f64 * self.days) as usize;
            let ts = browsing(
                &mut rng,
                n,
                86_400.0 / (self.browsing_per_host_day as f64 / 6.5),
                6.0,
                t0,
            );
            for t in ts {
                let r = rng.uniform();
                let idx = ((r * r * r) * web_servers.len() as f64) as usize;
                let dst = web_servers[idx.min(web_servers.len() - 1)];
                let port = if rng.chance(0.8) { 443 } else { 80 };
                push_series(&mut conns, &mut rng, &[t], src, dst, port, 6, (400, 3000));
            }
            // DNS to the resolver: Poisson, a hundred a day.
            let ts = poisson(&mut rng, (100.0 * self.days) as usize, 86_400.0 / 100.0, t0);
            push_series(&mut conns, &mut rng, &ts, src, resolver, 53, 17, (40, 30));
            // NTP every 1024 s to one pool server (benign periodic).
            let ntp = ntp_pool[(h as usize) % ntp_pool.len()];
            if h % 4 == 0 {
                let n = (span_s / 1024.0) as usize;
                let ts = BeaconSpec::new(1024.0, n)
                    .jitter(Jitter::Uniform(0.02))
                    .generate(&mut rng, t0);
                push_series(&mut conns, &mut rng, &ts, src, ntp, 123, 17, (48, 1));
                truth.push(Truth::benign(src, ntp, 123, "ntp", 1024.0));
            }
            // Monitoring agent reporting every 60 s to the collector (benign periodic).
            if h % 10 == 0 {
                let ts = BeaconSpec::new(60.0, (span_s / 60.0) as usize)
                    .jitter(Jitter::Uniform(0.01))
                    .generate(&mut rng, t0);
                push_series(&mut conns, &mut rng, &ts, src, collector, 8443, 6, (900, 50));
                truth.push(Truth::benign(src, collector, 8443, "monitoring", 60.0));
            }
            // Update agent polling hourly with ±10% jitter (benign periodic).
            if h % 7 == 0 {
                let ts = BeaconSpec::new(3600.0, (span_s / 3600.0) as usize)
                    .jitter(Jitter::Uniform(0.1))
                    .generate(&mut rng, t0);
                push_series(&mut conns, &mut rng, &ts, src, update, 443, 6, (700, 200));
                truth.push(Truth::benign(src, update, 443, "windows-update", 3600.0));
            }
        }

        // The beacons: one style each, from distinct hosts, to distinct C2 servers.
        let styles: [(&str, BeaconSpec, u64, u16); 6] = [
            (
                "strict 60 s HTTPS",
                BeaconSpec::new(60.0, (span_s / 60.0) as usize),
                310,
                443,
            ),
            (
                "Cobalt Strike sleep 300 s jitter 30%",
                BeaconSpec::new(300.0, (span_s / 255.0) as usize).jitter(Jitter::CobaltStrike(0.3)),
                2_100,
                443,
            ),
            (
                "hourly ±10%, 30% missed",
                BeaconSpec::new(3600.0, (span_s / 3600.0) as usize)
                    .jitter(Jitter::Uniform(0.1))
                    .missed(0.3),
                800,
                8080,
            ),
            (
                "15 min working hours ±20%",
                BeaconSpec::new(900.0, (span_s / 900.0 * 10.0 / 24.0) as usize)
                    .jitter(Jitter::Uniform(0.2))
                    .working_hours(8, 18),
                450,
                443,
            ),
            (
                "120 s bursts of 3",
                BeaconSpec::new(120.0, (span_s / 120.0) as usize)
                    .jitter(Jitter::Gaussian(0.1))
                    .burst(3, 0.3),
                150,
                80,
            ),
            (
                "8 h ±5% (slow)",
                BeaconSpec::new(28_800.0, (span_s / 28_800.0) as usize).jitter(Jitter::Uniform(0.05)),
                1_200,
                443,
            ),
        ];
        for (i, (name, spec, size, port)) in styles.into_iter().enumerate() {
            let src = host((i as u32 * 37 + 11) % self.hosts);
            let dst = external(&mut rng);
            let offset = rng.below(3_600_000_000) as i64;
            let ts = spec.generate(&mut rng, t0 + offset);
            let period = spec.jitter.mean_interval(spec.period);
            push_series(&mut conns, &mut rng, &ts, src, dst, port, 6, (size, size / 20 + 1));
            truth.push(Truth {
                src: ip_str(src),
                dst: ip_str(dst),
                dst_port: port,
                kind: TruthKind::Beacon(name.to_string()),
                period_s: period,
            });
        }
        conns.sort_by_key(|c| (c.ts, c.src, c.dst));
        Scenario {
            conns,
            truth,
            start_us: t0,
        }
    }
}

impl Truth {
    fn benign(src: u32, dst: u32, port: u16, name: &str, period: f64) -> Self {
        Truth {
            src: ip_str(src),
            dst: ip_str(dst),
            dst_port: port,
            kind: TruthKind::BenignPeriodic(name.into()),
            period_s: period,
        }
    }
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// A public-looking address outside private, loopback and multicast ranges.
fn external(rng: &mut Rng) -> u32 {
    loop {
        let a = 1 + rng.below(222) as u8;
        if matches!(a, 10 | 127 | 169 | 172 | 192 | 100) {
            continue;
        }
        return ip(a, rng.below(256) as u8, rng.below(256) as u8, 1 + rng.below(254) as u8);
    }
}

pub(super) fn ip_str(v: u32) -> String {
    let [a, b, c, d] = v.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

impl Scenario {
    /// A builder with the defaults.
    pub fn builder() -> ScenarioBuilder {
        ScenarioBuilder::default()
    }

    /// Number of connections.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether there are no connections.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// The pairs whose nature is known: every beacon and every benign periodic pair.
    pub fn truth(&self) -> &[Truth] {
        &self.truth
    }

    /// The capture as a Zeek `conn.log` in Zeek's default TSV format, header included.
    pub fn to_zeek_tsv(&self) -> String {
        let mut out = String::with_capacity(self.conns.len() * 160 + 1024);
        self.write_zeek_tsv(&mut out);
        out
    }

    /// The capture as one Arrow record batch with Zeek's column names (feature `arrow`): `ts`
    /// (`Timestamp(µs, UTC)`), `id.orig_h`/`id.resp_h` (dictionary-encoded strings, as
    /// Parquet writers and Polars produce for repeated values), `id.orig_p`/`id.resp_p`
    /// (`UInt16`), `proto`, `duration` (`Float64` seconds), `orig_bytes`/`resp_bytes`
    /// (`UInt64`). The same connections as [`Scenario::to_zeek_tsv`], without `uid` and the
    /// counters hunting does not use.
    ///
    /// # Example
    /// ```
    /// let s = beaconstat::synth::Scenario::builder().hosts(5).days(0.5).build();
    /// let batch = s.to_record_batch()?;
    /// assert_eq!(batch.num_rows(), s.len());
    /// assert!(batch.column_by_name("id.orig_h").is_some());
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    ///
    /// # Errors
    /// None in practice (every column has one value per connection).
    #[cfg(feature = "arrow")]
    pub fn to_record_batch(&self) -> crate::Result<arrow_array::RecordBatch> {
        use arrow_array::builder::StringDictionaryBuilder;
        use arrow_array::types::Int32Type;
        use arrow_array::{ArrayRef, Float64Array, StringArray, TimestampMicrosecondArray, UInt16Array, UInt64Array};
        use std::sync::Arc;
        let addresses = |f: fn(&Conn) -> u32| -> ArrayRef {
            let mut b = StringDictionaryBuilder::<Int32Type>::new();
            for c in &self.conns {
                b.append_value(ip_str(f(c)));
            }
            Arc::new(b.finish())
        };
        let ports = |f: fn(&Conn) -> u16| -> ArrayRef { Arc::new(self.conns.iter().map(f).collect::<UInt16Array>()) };
        let counts = |f: fn(&Conn) -> u64| -> ArrayRef { Arc::new(self.conns.iter().map(f).collect::<UInt64Array>()) };
        let ts = TimestampMicrosecondArray::from_iter_values(self.conns.iter().map(|c| c.ts)).with_timezone("UTC");
        let proto: StringArray = self
            .conns
            .iter()
            .map(|c| Some(if c.proto == 17 { "udp" } else { "tcp" }))
            .collect();
        let duration: Float64Array = self.conns.iter().map(|c| Some(c.duration_us as f64 / 1e6)).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("ts", Arc::new(ts)),
            ("id.orig_h", addresses(|c| c.src)),
            ("id.orig_p", ports(|c| c.sport)),
            ("id.resp_h", addresses(|c| c.dst)),
            ("id.resp_p", ports(|c| c.dport)),
            ("proto", Arc::new(proto)),
            ("duration", Arc::new(duration)),
            ("orig_bytes", counts(|c| c.bytes_out)),
            ("resp_bytes", counts(|c| c.bytes_in)),
        ];
        arrow_array::RecordBatch::try_from_iter(columns)
            .map_err(|e| crate::Error::format(format!("scenario batch: {e}")))
    }

    /// Appends the Zeek TSV text to `out`.
    pub fn write_zeek_tsv(&self, out: &mut String) {
        write_conn_log(out, self.start_us, &self.conns);
    }
}

/// Appends `conns` (in time order) to `out` as a Zeek `conn.log` in the default TSV format,
/// header and footer included, the log opened at `start_us`.
pub(super) fn write_conn_log(out: &mut String, start_us: i64, conns: &[Conn]) {
    let open = crate::time::Timestamp(start_us);
    // Zeek's #open/#close stamp: 2024-01-01-00-00-00.
    let ymd = |t: crate::time::Timestamp| t.to_string().get(..19).unwrap_or_default().replace(['T', ':'], "-");
    out.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n");
    let _ = writeln!(out, "#open\t{}", ymd(open));
    out.push_str(
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n",
        );
    out.push_str(
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
        );
    let mut uid_rng = Rng::new(start_us as u64);
    for c in conns {
        let (proto, service, state, history) = match (c.proto, c.dport) {
            (17, 53) => ("udp", "dns", "SF", "Dd"),
            (17, _) => ("udp", "-", "SF", "Dd"),
            (_, 80) => ("tcp", "http", "SF", "ShADadfF"),
            (_, 443) | (_, 8443) => ("tcp", "ssl", "SF", "ShADadfF"),
            _ => ("tcp", "-", "SF", "ShADadfF"),
        };
        let [a, b, cc, d] = c.src.to_be_bytes();
        let [e, f, g, h] = c.dst.to_be_bytes();
        let (opk, rpk) = (1 + c.bytes_out / 1400 + 2, 1 + c.bytes_in / 1400 + 2);
        let _ = writeln!(
            out,
            "{}.{:06}\tC{:016x}\t{a}.{b}.{cc}.{d}\t{}\t{e}.{f}.{g}.{h}\t{}\t{proto}\t{service}\t{}.{:06}\t{}\t{}\t{state}\tT\tF\t0\t{history}\t{opk}\t{}\t{rpk}\t{}\t-",
            c.ts.div_euclid(1_000_000),
            c.ts.rem_euclid(1_000_000),
            uid_rng.next_u64() >> 4,
            c.sport,
            c.dport,
            c.duration_us / 1_000_000,
            c.duration_us % 1_000_000,
            c.bytes_out,
            c.bytes_in,
            c.bytes_out + opk * 40,
            c.bytes_in + rpk * 40,
        );
    }
    let close = crate::time::Timestamp(conns.last().map_or(start_us, |c| c.ts));
    let _ = writeln!(out, "#close\t{}", ymd(close));
}
