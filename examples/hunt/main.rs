//! Beacon hunting from connection logs, as an analyst does it: read the logs, group connections
//! into series, score every series, apply the allowlist, and print a ranked, explained table,
//! JSON lines, or pictures.
//!
//! ```text
//! cargo run --release --example hunt                           # the bundled demo network
//! cargo run --release --example hunt -- conn.log conn.*.log.gz  # your Zeek logs
//! cargo run --release --example hunt -- logs/ --json > beacons.jsonl  # conn + dns/ssl/http
//! cargo run --release --example hunt -- logs/ --group-by domain
//! cargo run --release --example hunt -- conn.log --svg out/ --top 5
//! cargo run --release --features arrow --example hunt -- conns.parquet --parquet beacons.parquet
//! ```
//!
//! `hunt --help` lists every option with its default and what it does (the text is `HELP` below).
//!
//! Exit status: 0 on success (and for `--help`), 2 on unreadable files, unknown formats or bad
//! arguments.

#[cfg(feature = "arrow")]
mod parquet_out;
mod plot;

use beaconstat::rank::{Adjustment, Channel, DestinationStats, Direction, LocalNets};
use beaconstat::read::Inputs;
use beaconstat::series::KeyId;
use beaconstat::synth::Scenario;
use beaconstat::{
    Analyzer, ConnEvent, Format, GroupBy, Grouper, Interval, Ranked, RankedSeries, Ranker, ReadOptions, ReadStats,
    SeriesKey, SeriesSet,
    allowlist::Allowlist,
    beacon::human_secs,
    names::{DnsChannelSet, DnsChannels, NameResolver, ResolveStats, ResolvedBy, registered_domain},
    read::{NameLogReader, NameRecord},
    score_set,
};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const SITE_ALLOWLIST_DEMO: &str = include_str!("../data/site-allowlist.json");

#[derive(Debug)]
struct Options {
    inputs: Vec<PathBuf>,
    json: bool,
    parquet: Option<PathBuf>,
    svg: Option<PathBuf>,
    top: usize,
    min_events: usize,
    threshold: f64,
    group_by: String,
    allowlist: Option<PathBuf>,
    no_allowlist: bool,
    strict: bool,
    dns_grace: f64,
    dns_any_source: bool,
    local_nets: Option<String>,
    threads: usize,
    help: bool,
}

/// `hunt --help`: every option, its default and what it does.
const HELP: &str = "\
hunt: find beacons (periodic check-ins) in connection logs; print them ranked and explained.

Usage: hunt [OPTIONS] [FILE|DIR ...]

With no FILE, hunt runs on a bundled generated network (200 hosts, 3 days) and its allowlist.

Inputs:
  FILE|DIR            Zeek conn.log (TSV or JSON, plain or gzip), CSV, Windows event JSON or
                      .evtx (Sysmon 3 network connections, each naming its process; .evtx
                      needs --features evtx), Parquet files or directories of them (columns
                      found by the CSV reader's names; needs --features arrow). Files named
                      dns*, ssl*, http* are name logs; a directory is searched for conn*,
                      dns*, ssl* and http* files.

Output:
  --json              one JSON object per line for every series with at least --min-events
                      events, suppressed ones included, to stdout [default: off, a table]
  --parquet FILE      the rows and fields of --json as one Parquet file (nested objects
                      flattened: subscores.timing); needs --features arrow [default: none]
  --svg DIR           one SVG per top series: timeline, interval histogram, periodogram, ACF
                      [default: none]
  --top K             rows in the table and pictures [default: 15]

Ranking (rank score = beacon score x persistence x fan-in or prevalence x allowlist down-rank;
raw_score in JSON is the beacon score alone, adjustments says what changed it and why):
  --local-nets LIST   the site's own networks, comma-separated CIDRs, local besides RFC 1918,
                      loopback, link-local, CGNAT, ULA and what Zeek's local_orig/local_resp
                      mark local [default: none]. The table shows outbound (local ->
                      external) series first, then inbound, internal and external ones, each
                      in its own section with its counts; JSON has every series with its
                      direction.
  --min-events N      smallest series scored and reported, in events [default: 6]
  --threshold T       rank score in [0, 1] from which a series counts as a beacon [default: 0.5]
  --allowlist FILE    site rules (JSON) applied after the built-in ones [default: none; the
                      bundled network's own without FILE]
  --no-allowlist      no rules at all, not even the built-in ones [default: off]

Grouping and names:
  --group-by MODE     how connections form series [default: auto]
                        auto          (src, server name) where a name is known, else
                                      (src, dst, port)
                        pair          (src, dst, port)
                        fqdn, domain  named connections only, by (src, FQDN) or
                                      (src, registered domain)
                        ip-pair       (src, dst)
                        host-process  (host, process image, dst), for endpoint telemetry
  --dns-grace S       seconds past a DNS answer's TTL it still names its address [default: 60]
  --dns-any-source    let a DNS answer to any source name a connection (when the sensor sees
                      only the recursive resolver's queries) [default: off]

  Names come from dns.log, ssl.log and http.log beside conn.log: by connection uid (TLS SNI,
  HTTP Host, proxy CONNECT host:port), else by the latest DNS answer for the destination. JSON
  rows carry fqdn, domain, via_proxy, proxy and resolved_by. With a dns.log, DNS queries are
  scored too, per (src, registered domain): rows with channel \"dns\", dns_subdomains,
  dns_label_entropy and dns_tunnel_like.

Reading:
  --strict            stop at the first malformed record instead of counting it as skipped
                      [default: off]
  --threads N         threads reading and grouping (0: one per core): large plain Zeek and
                      Windows event JSON logs are cut at line boundaries, other files read
                      whole; the output is the same for every N [default: 0]
  -h, --help          print this help and exit

Exit status: 0 on success, 2 on unreadable files, unknown formats or bad arguments.
";

/// The machine's cores (1 if unknown).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn usage() -> &'static str {
    "usage: hunt [OPTIONS] [FILE|DIR ...]   (hunt --help lists every option)"
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        inputs: Vec::new(),
        json: false,
        parquet: None,
        svg: None,
        top: 15,
        min_events: 6,
        threshold: 0.5,
        group_by: "auto".into(),
        allowlist: None,
        no_allowlist: false,
        strict: false,
        dns_grace: 60.0,
        dns_any_source: false,
        local_nets: None,
        threads: cores(),
        help: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n{}", usage()));
        match a.as_str() {
            "--json" => o.json = true,
            "--parquet" => o.parquet = Some(PathBuf::from(value("--parquet")?)),
            "--svg" => o.svg = Some(PathBuf::from(value("--svg")?)),
            "--top" => o.top = value("--top")?.parse().map_err(|e| format!("--top: {e}"))?,
            "--min-events" => {
                o.min_events = value("--min-events")?
                    .parse()
                    .map_err(|e| format!("--min-events: {e}"))?
            }
            "--threshold" => o.threshold = value("--threshold")?.parse().map_err(|e| format!("--threshold: {e}"))?,
            "--group-by" => o.group_by = value("--group-by")?,
            "--dns-any-source" => o.dns_any_source = true,
            "--dns-grace" => o.dns_grace = value("--dns-grace")?.parse().map_err(|e| format!("--dns-grace: {e}"))?,
            "--allowlist" => o.allowlist = Some(PathBuf::from(value("--allowlist")?)),
            "--no-allowlist" => o.no_allowlist = true,
            "--local-nets" => o.local_nets = Some(value("--local-nets")?),
            "--strict" => o.strict = true,
            "--threads" => {
                o.threads = match value("--threads")?.parse::<usize>() {
                    Ok(0) => cores(),
                    Ok(n) => n,
                    Err(e) => return Err(format!("--threads: {e}")),
                }
            }
            "-h" | "--help" => o.help = true,
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{}", usage())),
            _ => o.inputs.push(PathBuf::from(a)),
        }
    }
    if !matches!(
        o.group_by.as_str(),
        "auto" | "pair" | "fqdn" | "domain" | "ip-pair" | "host-process"
    ) {
        return Err(format!("--group-by: unknown grouping {:?}\n{}", o.group_by, usage()));
    }
    Ok(o)
}

/// The files to read: each argument, or the logs under a directory (recognised by their
/// content; see `beaconstat::read::Inputs`).
fn expand(inputs: &[PathBuf]) -> Result<Inputs, String> {
    let found = Inputs::scan(inputs).map_err(|e| e.to_string())?;
    for p in found.dhcp_logs() {
        eprintln!(
            "note: {}: a Zeek dhcp log (address leases): not read by hunt",
            p.display()
        );
    }
    for p in inputs.iter().filter(|p| p.is_dir()) {
        if !found.connection_logs().any(|f| f.starts_with(p)) {
            return Err(format!("{}: no connection logs in this directory", p.display()));
        }
    }
    Ok(found)
}

/// (src, name) for a named connection (the resolver has put the FQDN or the registered domain
/// into `name`); unnamed connections are left out.
fn by_name<'e>(e: &ConnEvent<'e>) -> Option<SeriesKey<'e>> {
    e.name.map(|n| SeriesKey::empty().with_src(e.src).with_name(n))
}

fn group_by(name: &str) -> GroupBy {
    match name {
        "ip-pair" => GroupBy::Pair,
        "host-process" => GroupBy::HostProcessDst,
        "fqdn" | "domain" => GroupBy::custom(by_name),
        "auto" => GroupBy::SrcNameOrPairPort,
        _ => GroupBy::PairPort,
    }
}

/// How the connections of one named series were resolved.
#[derive(Debug, Default, Clone)]
struct NameMeta {
    // Counts per ResolvedBy: uid, connect_host, dns, dns_any_source.
    by: [u64; 4],
    proxied: u64,
    proxy: Option<String>,
}

impl NameMeta {
    fn resolved_by(&self) -> ResolvedBy {
        let [uid, connect, dns, any] = self.by;
        if connect >= uid.max(dns).max(any) {
            ResolvedBy::ConnectHost
        } else if uid >= dns.max(any) {
            ResolvedBy::Uid
        } else if dns >= any {
            ResolvedBy::Dns
        } else {
            ResolvedBy::DnsAnySource
        }
    }
}

/// What the name logs added: resolution counts, per-(src, name) metadata, DNS series.
#[derive(Default)]
struct NameInfo {
    logs: usize,
    stats: ResolveStats,
    meta: HashMap<String, HashMap<String, NameMeta>>,
    dns: Option<DnsChannelSet>,
}

/// Reads the dns/ssl/http logs into a resolver (and DNS query series).
fn read_names(o: &Options, files: &[PathBuf], sources: &mut Vec<String>) -> Result<(NameResolver, NameInfo), String> {
    let mut b = NameResolver::builder();
    b.dns_grace(Interval::from_secs_f64(o.dns_grace.max(0.0)).unwrap_or(Interval::from_secs(60)));
    b.dns_any_source(o.dns_any_source);
    let mut channels = DnsChannels::new();
    let mut any_dns = false;
    let mut opts = ReadOptions::new();
    opts.strict(o.strict);
    for f in files {
        let mut r = NameLogReader::from_path_with(f, &opts).map_err(|e| format!("{}: {e}", f.display()))?;
        r.for_each(|rec| {
            b.add(&rec);
            if let NameRecord::Dns(d) = rec {
                channels.push(&d);
                any_dns = true;
            }
        })
        .map_err(|e| format!("{}: {e}", f.display()))?;
        let st = r.stats();
        sources.push(format!(
            "{} ({}, names): {} records, {} used, {} skipped",
            f.display(),
            r.format(),
            st.records,
            st.events,
            st.skipped
        ));
    }
    let info = NameInfo {
        logs: files.len(),
        dns: any_dns.then(|| channels.finish()),
        ..NameInfo::default()
    };
    Ok((b.build(), info))
}

/// Reads every input into one grouper; returns the series, the merged read statistics and
/// what the name logs added.
fn read_all(
    o: &Options,
    files: &[PathBuf],
    name_files: &[PathBuf],
    coverage: &mut NetCoverage,
) -> Result<(SeriesSet, ReadStats, Vec<String>, NameInfo), String> {
    let mut sources = Vec::new();
    let (resolver, mut info) = read_names(o, name_files, &mut sources)?;
    let ctx = SinkContext {
        resolver: &resolver,
        resolve: !name_files.is_empty(),
        use_names: matches!(o.group_by.as_str(), "auto" | "fqdn" | "domain"),
        by_domain: o.group_by == "domain",
        src_in_key: matches!(
            group_by(&o.group_by),
            GroupBy::Pair | GroupBy::PairPort | GroupBy::SrcName | GroupBy::SrcNameOrPairPort
        ),
    };
    let sink_with = |grouper: Grouper| Sink {
        grouper,
        coverage: coverage.clone(),
        rstats: ResolveStats::default(),
        meta: HashMap::new(),
        events: 0,
        src_marked: Vec::new(),
    };
    let new_sink = || sink_with(Grouper::new(group_by(&o.group_by)));
    let mut opts = ReadOptions::new();
    opts.strict(o.strict);
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = (total > 50_000_000 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let (sink, sets, file_stats) = if files.is_empty() {
        let scenario = Scenario::builder().build();
        let text = scenario.to_zeek_tsv();
        sources.push(format!(
            "bundled demo network: {} connections, {} hosts, {} days, {:.0} MB of Zeek conn.log (generated)",
            scenario.len(),
            200,
            3,
            text.len() as f64 / 1e6
        ));
        let mut reader = opts
            .from_reader(std::io::Cursor::new(text.into_bytes()))
            .map_err(|e| e.to_string())?;
        let mut sink = new_sink();
        reader.for_each(|ev| sink.take(&ev, &ctx)).map_err(|e| e.to_string())?;
        let set = std::mem::take(&mut sink.grouper).finish();
        (sink, vec![set], reader.files())
    } else {
        // The input is read in parts (more than threads, each thread taking the next as it
        // is free), each grouped with its own grouper and finished on the thread that read
        // it; the parts' sets are joined once, in input order, into what one grouper would
        // have built.
        let reader = opts.open_parallel(files, o.threads);
        let progress = reader.progress();
        let read = reader
            .for_each_part(
                new_sink,
                |sink, ev| {
                    sink.take(&ev, &ctx);
                    if sink.events.is_multiple_of(1 << 16)
                        && let Some(b) = &bar
                    {
                        b.set_position(progress.bytes());
                    }
                },
                |sink| {
                    // The part's set and counts go; its emptied grouper stays with the worker
                    // for the next part (its columns' memory written again, not faulted in
                    // afresh).
                    let set = sink.grouper.finish_and_reset();
                    let grouper = std::mem::take(&mut sink.grouper);
                    (std::mem::replace(sink, sink_with(grouper)), set)
                },
            )
            .map_err(|e| e.to_string())?;
        let (parts, sets): (Vec<Sink>, Vec<SeriesSet>) = read.states.into_iter().unzip();
        let mut parts = parts.into_iter();
        let mut sink = parts.next().unwrap_or_else(new_sink);
        parts.for_each(|p| sink.merge(p));
        (sink, sets, read.files)
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let stats = {
        let mut total = ReadStats::default();
        file_stats.iter().for_each(|s| total.merge(s));
        total
    };
    for st in &file_stats {
        let what = st
            .path
            .as_ref()
            .map_or_else(|| "input".to_owned(), |p| p.display().to_string());
        match st.format {
            Some(Format::WindowsEventJson | Format::Evtx) => sources.push(format!(
                "{what} (windows events): {} records, {} Sysmon network connections, {} other events, {} skipped",
                st.records, st.events, st.ignored, st.skipped
            )),
            Some(f) => sources.push(format!(
                "{what} ({f}): {} records, {} events, {} skipped",
                st.records, st.events, st.skipped
            )),
            None => sources.push(format!("{what} (empty or unreadable): {} skipped", st.skipped)),
        }
    }
    *coverage = sink.coverage;
    info.stats = sink.rstats;
    info.meta = sink.meta;
    Ok((SeriesSet::concat(sets, o.threads), stats, sources, info))
}

/// What every worker shares: the name resolver and how names key series.
struct SinkContext<'a> {
    resolver: &'a NameResolver,
    // Whether there are name logs to resolve against (without, every connection is unnamed
    // and the resolution counts are not shown).
    resolve: bool,
    use_names: bool,
    by_domain: bool,
    // Whether a series key holds the event's source address (every grouping but by host and
    // process and the custom name keys): the source's local mark is then taken once a series.
    src_in_key: bool,
}

/// Where each connection event goes: coverage, name resolution, then the grouper. One per
/// reading thread, merged in input order.
struct Sink {
    grouper: Grouper,
    coverage: NetCoverage,
    rstats: ResolveStats,
    meta: HashMap<String, HashMap<String, NameMeta>>,
    events: u64,
    // By series id of this sink's grouper: its source is marked local already.
    src_marked: Vec<bool>,
}

impl Sink {
    fn take(&mut self, ev: &ConnEvent<'_>, ctx: &SinkContext<'_>) {
        self.events += 1;
        self.coverage.count(ev);
        // Events that name their server themselves (Sysmon's DestinationHostname) keep it.
        let r = if ev.name.is_some() || !ctx.resolve {
            None
        } else {
            Some(ctx.resolver.resolve(ev))
        };
        if let Some(r) = &r {
            self.rstats.add(r);
        }
        let name = r.as_ref().and_then(|r| if ctx.by_domain { r.domain } else { r.name });
        match (name, &r) {
            (Some(n), Some(r)) if ctx.use_names => {
                let m = self.meta.entry_ref_or_default(ev.src, n);
                let slot = match r.how {
                    ResolvedBy::Uid => 0,
                    ResolvedBy::ConnectHost => 1,
                    ResolvedBy::Dns => 2,
                    _ => 3,
                };
                m.by[slot] += 1;
                if r.via_proxy {
                    m.proxied += 1;
                    if m.proxy.is_none() {
                        m.proxy = Some(match ev.dst_port {
                            Some(p) if ev.dst.contains(':') => format!("[{}]:{p}", ev.dst),
                            Some(p) => format!("{}:{p}", ev.dst),
                            None => ev.dst.to_string(),
                        });
                    }
                }
                let id = self.grouper.push_and_id(&ev.with_name(n));
                self.observe_local(ev, id, ctx);
            }
            _ => {
                let id = self.grouper.push_and_id(ev);
                self.observe_local(ev, id, ctx);
            }
        }
    }

    /// What the sensor marked local ([`LocalNets::observe`]), the source's mark taken once a
    /// series when the key holds the source (marking is idempotent: one lookup a series
    /// instead of one an event).
    fn observe_local(&mut self, ev: &ConnEvent<'_>, id: Option<KeyId>, ctx: &SinkContext<'_>) {
        let Some(i) = id.filter(|_| ctx.src_in_key).map(KeyId::index) else {
            self.coverage.local.observe(ev);
            return;
        };
        if ev.local_orig == Some(true) && self.src_marked.get(i) != Some(&true) {
            self.coverage.local.mark_local(ev.src);
            if self.src_marked.len() <= i {
                self.src_marked.resize(i + 1, false);
            }
            self.src_marked[i] = true;
        }
        if ev.local_resp == Some(true) {
            self.coverage.local.mark_local(ev.dst);
        }
    }

    /// Adds the sink of the input part that follows this one's (as if its events had come
    /// here after this one's), all but the grouper (finished with the others').
    fn merge(&mut self, next: Sink) {
        self.coverage.merge(&next.coverage);
        self.rstats.merge(&next.rstats);
        self.events += next.events;
        for (src, names) in next.meta {
            let mine = self.meta.entry(src).or_default();
            for (name, m) in names {
                let e = mine.entry(name).or_default();
                for (a, b) in e.by.iter_mut().zip(m.by) {
                    *a += b;
                }
                e.proxied += m.proxied;
                // The first proxied connection names the proxy: this part's comes first.
                if e.proxy.is_none() {
                    e.proxy = m.proxy;
                }
            }
        }
    }
}

/// `meta[src][name]`, inserted on first sight (no allocation once present).
trait EntryRef {
    fn entry_ref_or_default(&mut self, src: &str, name: &str) -> &mut NameMeta;
}

impl EntryRef for HashMap<String, HashMap<String, NameMeta>> {
    fn entry_ref_or_default(&mut self, src: &str, name: &str) -> &mut NameMeta {
        if !self.contains_key(src) {
            self.insert(src.to_string(), HashMap::new());
        }
        let inner = self.get_mut(src).expect("inserted above");
        if !inner.contains_key(name) {
            inner.insert(name.to_string(), NameMeta::default());
        }
        inner.get_mut(name).expect("inserted above")
    }
}

/// What the network telemetry lets a hunter see: which events name a host and a process.
#[derive(Debug, Default, Clone)]
struct NetCoverage {
    /// The local networks, learning what the sensor marks local (Zeek `local_orig`/`local_resp`).
    local: LocalNets,
    events: u64,
    with_process: u64,
    with_host: u64,
    with_bytes: u64,
}

impl NetCoverage {
    /// Counts what the event names (its local marks are the sink's to observe).
    fn count(&mut self, ev: &beaconstat::ConnEvent<'_>) {
        self.events += 1;
        self.with_process += u64::from(ev.process.is_some_and(|p| p.image.is_some() || p.guid.is_some()));
        self.with_host += u64::from(ev.host.is_some());
        self.with_bytes += u64::from(ev.bytes_out.is_some());
    }

    /// Adds the counts and what the sensor marked local of another part of the input.
    fn merge(&mut self, other: &NetCoverage) {
        self.local.merge(&other.local);
        self.events += other.events;
        self.with_process += other.with_process;
        self.with_host += other.with_host;
        self.with_bytes += other.with_bytes;
    }

    /// The blind spots, in words.
    fn gaps(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        if self.events == 0 {
            return gaps;
        }
        let share = |n: u64| n as f64 / self.events as f64;
        if share(self.with_process) < 0.5 {
            gaps.push(format!(
                "{:.0}% of connections name no process: beacons cannot be tied to a program or a scheduled task (add Sysmon 3 or EDR network events)",
                100.0 * (1.0 - share(self.with_process))
            ));
        }
        if share(self.with_bytes) < 0.5 {
            gaps.push(format!(
                "{:.0}% of connections carry no byte counts: data-size regularity is not used",
                100.0 * (1.0 - share(self.with_bytes))
            ));
        }
        gaps
    }
}

/// One scored series, ready for output.
#[derive(serde::Serialize)]
struct Row<'a> {
    src: Option<&'a str>,
    dst: Option<&'a str>,
    dst_port: Option<u16>,
    host: Option<&'a str>,
    process: Option<&'a str>,
    events: usize,
    beats: usize,
    score: f64,
    raw_score: f64,
    persistence: f64,
    period_s: Option<f64>,
    jitter: f64,
    missed: f64,
    p_value: f64,
    explained: f64,
    chance: f64,
    size_regularity: Option<f64>,
    first_ts: String,
    last_ts: String,
    suppressed_by: Option<&'a str>,
    downranked_by: Option<&'a str>,
    subscores: beaconstat::beacon::SubScores,
    evidence: String,
    /// `outbound` (local → external), `inbound`, `internal`, `external` or `unknown`.
    direction: Direction,
    /// Fan-in, prevalence and novelty of the destination.
    destination: DestinationStats,
    /// What changed the score from `raw_score` to `score`, and why.
    adjustments: &'a [Adjustment],
    /// `conn` (connections) or `dns` (DNS queries per registered domain).
    channel: &'static str,
    fqdn: Option<&'a str>,
    domain: Option<&'a str>,
    via_proxy: bool,
    proxy: Option<String>,
    resolved_by: Option<ResolvedBy>,
    dns_subdomains: Option<u64>,
    dns_label_entropy: Option<f64>,
    dns_tunnel_like: Option<bool>,
    #[serde(skip)]
    ranked: &'a RankedSeries<'a>,
    #[serde(skip)]
    key: SeriesKey<'a>,
}

/// The output row of one ranked series, with its name fields.
fn row<'a>(o: &Options, names: &'a NameInfo, r: &'a RankedSeries<'a>) -> Row<'a> {
    let (key, report) = (r.series.key(), &r.report);
    // Name fields: a conn series keyed by name is by FQDN unless grouped by domain.
    let (mut fqdn, mut domain) = (None, None);
    let (mut via_proxy, mut proxy, mut resolved_by) = (false, None, None);
    let (mut dns_subdomains, mut dns_label_entropy, mut dns_tunnel_like) = (None, None, None);
    if r.channel == Channel::Dns {
        domain = key.name;
        if let Some(ev) = names.dns.as_ref().and_then(|d| d.evidence(&key)) {
            dns_subdomains = Some(ev.subdomains);
            dns_label_entropy = Some(ev.mean_entropy);
            dns_tunnel_like = Some(ev.tunnel_like());
        }
    } else if let (Some(src), Some(name)) = (key.src, key.name) {
        if o.group_by == "domain" {
            domain = Some(name);
        } else {
            fqdn = Some(name);
            domain = Some(registered_domain(name));
        }
        if let Some(m) = names.meta.get(src).and_then(|m| m.get(name)) {
            via_proxy = m.proxied > 0;
            proxy = m.proxy.clone();
            resolved_by = Some(m.resolved_by());
        }
    } else if names.logs > 0 && key.dst.is_some() {
        resolved_by = Some(ResolvedBy::Unresolved);
    }
    let mut evidence = report.explain().to_string();
    if let Some(p) = &proxy {
        evidence.push_str(&format!("; through proxy {p}"));
    }
    if let (Some(n), Some(e)) = (dns_subdomains, dns_label_entropy) {
        evidence.push_str(&format!("; DNS: {n} subdomains, label entropy {e:.1} bits/char"));
        if dns_tunnel_like == Some(true) {
            evidence.push_str(" (tunnel-like)");
        }
    }
    Row {
        src: key.source(),
        dst: key.dst.or(key.name),
        dst_port: key.dst_port,
        host: key.host,
        process: key.process,
        events: report.events,
        beats: report.beats,
        score: r.rank_score,
        raw_score: r.raw_score(),
        persistence: r.persistence(),
        period_s: report.period.map(|p| p.as_secs_f64()),
        jitter: report.jitter,
        missed: report.missed,
        p_value: report.p_value,
        explained: report.explained,
        chance: report.chance,
        size_regularity: report.subscores.size,
        first_ts: report.first.to_string(),
        last_ts: report.last.to_string(),
        suppressed_by: r.suppressed_by(),
        downranked_by: r.downranked_by(),
        subscores: report.subscores,
        evidence,
        direction: r.direction,
        destination: r.destination,
        adjustments: &r.adjustments,
        channel: r.channel.as_str(),
        fqdn,
        domain,
        via_proxy,
        proxy,
        resolved_by,
        dns_subdomains,
        dns_label_entropy,
        dns_tunnel_like,
        ranked: r,
        key,
    }
}

fn run(o: &Options) -> Result<(), String> {
    let started = Instant::now();
    if let Some(missing) = o.inputs.iter().find(|p| !p.exists()) {
        return Err(format!("{}: no such file or directory", missing.display()));
    }
    let found = expand(&o.inputs)?;
    let files: Vec<PathBuf> = found.connection_logs().map(PathBuf::from).collect();
    let name_files: Vec<PathBuf> = found.name_logs().map(PathBuf::from).collect();
    let mut coverage = NetCoverage::default();
    if let Some(list) = &o.local_nets {
        coverage
            .local
            .push_list(list)
            .map_err(|e| format!("--local-nets: {e}"))?;
    }
    let (set, stats, sources, names) = read_all(o, &files, &name_files, &mut coverage)?;
    let read_time = started.elapsed();

    let mut allow = if o.no_allowlist {
        Allowlist::new()
    } else {
        Allowlist::default_rules()
    };
    let site = match (&o.allowlist, files.is_empty() && !o.no_allowlist) {
        (Some(p), _) => Some(std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?),
        (None, true) => Some(SITE_ALLOWLIST_DEMO.to_string()),
        (None, false) => None,
    };
    if let Some(text) = site {
        let extra = Allowlist::from_json(&text).map_err(|e| format!("allowlist: {e}"))?;
        for r in extra.rules() {
            allow.push(r.clone()).map_err(|e| format!("allowlist: {e}"))?;
        }
    }

    let score_started = Instant::now();
    let mut analyzer = Analyzer::default();
    let ranker = Ranker::builder()
        .allowlist(allow)
        .threshold(o.threshold)
        .min_events(o.min_events)
        .top(o.top)
        .local_nets(coverage.local.clone())
        .build()
        .map_err(|e| format!("--threshold: {e}"))?;
    // Connection series, and DNS query series (with a dns.log) scored and ranked the same way.
    let mut ranked = ranker.score_and_rank(&set, analyzer.config());
    let dns_series = names.dns.as_ref().map(|d| d.series());
    if let Some(d) = dns_series {
        ranked.merge(ranker.rank_channel(Channel::Dns, d, score_set(d, analyzer.config(), o.min_events)));
    }
    // Rows, and with --json their lines, built on every reading thread in consecutive chunks
    // (same rows, same bytes, in the same order), in one pass: each row is formatted while
    // it is in the cache.
    let chunks = in_chunks(ranked.entries(), o.threads, |part| {
        let rows: Vec<Row<'_>> = part.iter().map(|r| row(o, &names, r)).collect();
        let mut text = Vec::new();
        if o.json {
            text.reserve(1280 * rows.len());
            for r in &rows {
                serde_json::to_writer(&mut text, r)?;
                text.push(b'\n');
            }
        }
        Ok::<_, serde_json::Error>((rows, text))
    });
    let mut rows: Vec<Row<'_>> = Vec::with_capacity(ranked.len());
    let mut lines = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        let (r, text) = chunk.map_err(|e| format!("writing output: {e}"))?;
        rows.extend(r);
        lines.push(text);
    }
    let score_time = score_started.elapsed();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| format!("writing output: {e}");
    #[cfg(feature = "arrow")]
    if let Some(path) = &o.parquet {
        let n = parquet_out::write(path, &rows)?;
        eprintln!("wrote {n} rows to {}", path.display());
    }
    #[cfg(not(feature = "arrow"))]
    if o.parquet.is_some() {
        return Err("--parquet needs `--features arrow`".into());
    }
    if o.json {
        for text in &lines {
            out.write_all(text).map_err(io)?;
        }
    } else {
        print_table(&mut out, o, &ranked, &rows).map_err(io)?;
    }
    out.flush().map_err(io)?;

    // The summary goes to stderr so JSON on stdout stays clean.
    let mut err = std::io::stderr().lock();
    for s in &sources {
        let _ = writeln!(err, "read {s}");
    }
    if stats.skipped > 0 {
        let reasons: Vec<String> = stats.by_reason.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(
            err,
            "skipped {} of {} records: {}",
            stats.skipped,
            stats.records,
            reasons.join(", ")
        );
        for s in stats.skipped_samples.iter().take(3) {
            let _ = writeln!(err, "  e.g. {s}");
        }
    }
    let beacons = ranked.beacons();
    let _ = writeln!(
        err,
        "{} events in {} series{}; {} series with >= {} events scored; {} at or above {} after the allowlist",
        set.events(),
        set.len(),
        dns_series.map_or(String::new(), |d| format!(
            " (+ {} DNS queries in {} series)",
            d.events(),
            d.len()
        )),
        rows.len(),
        o.min_events,
        beacons,
        o.threshold
    );
    if names.logs > 0 {
        let _ = writeln!(err, "names: {}", names.stats);
        if let Some(d) = &names.dns {
            let _ = writeln!(
                err,
                "DNS channels: {} (src, domain) series; {} reverse/mDNS queries left out",
                d.series().len(),
                d.ignored()
            );
        }
        // Tunnels need not be periodic: list every tunnel-like DNS series, whatever its rank.
        let tunnels: Vec<String> = rows
            .iter()
            .filter(|r| r.dns_tunnel_like == Some(true))
            .map(|r| format!("{} (score {:.2})", r.key, r.score))
            .collect();
        if !tunnels.is_empty() {
            let _ = writeln!(
                err,
                "tunnel-like DNS (many high-entropy subdomains): {}",
                tunnels.join(", ")
            );
        }
    }
    let _ = writeln!(err, "{}", ranked.allowlist_summary());
    for gap in coverage.gaps() {
        let _ = writeln!(err, "coverage: {gap}");
    }
    let _ = writeln!(
        err,
        "read + group {:.2} s, score {:.2} s ({:.1} M events/s)",
        read_time.as_secs_f64(),
        score_time.as_secs_f64(),
        set.events() as f64 / score_time.as_secs_f64().max(1e-9) / 1e6
    );

    if let Some(dir) = &o.svg {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut written = 0;
        for (rank, r) in by_view(&rows)
            .filter(|r| r.suppressed_by.is_none())
            .take(o.top)
            .enumerate()
        {
            let series = &r.ranked.series;
            let evidence = analyzer.evidence(series.timestamps(), series.sizes());
            let path = dir.join(svg_name(rank + 1, &r.key));
            plot::render(&path, &r.key.to_string(), &evidence).map_err(|e| format!("{}: {e}", path.display()))?;
            written += 1;
        }
        let _ = writeln!(err, "wrote {written} SVG files to {}", dir.display());
    }
    // The process ends next and its memory with it: the series, their reports and rows are
    // not freed one allocation at a time first.
    std::mem::forget(rows);
    std::mem::forget(lines);
    std::mem::forget(ranked);
    std::mem::forget(set);
    std::mem::forget(names);
    Ok(())
}

/// `f` of consecutive chunks of `items`, one chunk per thread (up to `threads`; the first on
/// this thread), in order. Small inputs stay on this thread.
fn in_chunks<'a, T: Sync, U: Send>(items: &'a [T], threads: usize, f: impl Fn(&'a [T]) -> U + Sync) -> Vec<U> {
    let threads = threads.clamp(1, items.len().div_ceil(64).max(1));
    if threads == 1 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(size);
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks.map(|c| scope.spawn(move || f(c))).collect();
        let mut all = vec![f(first)];
        for h in handles {
            all.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    })
}

/// The picture's file name: the rank, the key with every character but ASCII letters, digits,
/// `.` and `-` replaced by `_` and cut to 64 characters, and a hash of the whole key (so keys
/// that differ only past the cut or in replaced characters get different files). At most 110
/// bytes, whatever the key: a 253-character FQDN or an IPv6 key stays within any file system's
/// 255-byte name limit.
fn svg_name(rank: usize, key: &SeriesKey<'_>) -> String {
    let key = key.to_string();
    let clean: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    format!("{rank:02}_{clean}_{:016x}.svg", fnv1a(key.as_bytes()))
}

/// 64-bit FNV-1a: a hash that stays the same across Rust releases (file names do not move).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The rows in display order: outbound first, then the other directions, each in rank order.
fn by_view<'r, 'a>(rows: &'r [Row<'a>]) -> impl Iterator<Item = &'r Row<'a>> + 'r {
    Direction::ALL
        .into_iter()
        .flat_map(move |d| rows.iter().filter(move |r| r.direction == d))
}

fn print_table(out: &mut impl Write, o: &Options, ranked: &Ranked<'_>, rows: &[Row<'_>]) -> std::io::Result<()> {
    for (direction, series, beacons) in ranked.counts() {
        if series == 0 {
            continue;
        }
        writeln!(
            out,
            "== {direction} ({}): {series} series, {beacons} at or above {}",
            direction.describe(),
            o.threshold
        )?;
        writeln!(
            out,
            "{:>4} {:>5}  {:<42} {:>6} {:>9} {:>6} {:>6} {:>8} {:>5}  {:<20} {:<20}",
            "rank",
            "score",
            "series",
            "events",
            "period",
            "jitter",
            "missed",
            "p-value",
            "size",
            "first seen",
            "last seen"
        )?;
        let view = rows
            .iter()
            .filter(|r| r.direction == direction && r.suppressed_by.is_none());
        for (i, r) in view.take(o.top).enumerate() {
            print_row(out, i + 1, r)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn print_row(out: &mut impl Write, rank: usize, r: &Row<'_>) -> std::io::Result<()> {
    let size = r.size_regularity.map_or("-".to_string(), |s| format!("{s:.2}"));
    writeln!(
        out,
        "{:>4} {:>5.2}  {:<42} {:>6} {:>9} {:>5.0}% {:>5.0}% {:>8} {:>5}  {:<20} {:<20}",
        rank,
        r.score,
        truncate(
            &if r.channel == "dns" {
                format!("{} (DNS)", r.key)
            } else {
                r.key.to_string()
            },
            42
        ),
        r.events,
        r.period_s.map_or("-".to_string(), human_secs),
        r.jitter * 100.0,
        r.missed * 100.0,
        if r.p_value < 1e-300 {
            "<1e-300".to_string()
        } else {
            format!("{:.1e}", r.p_value)
        },
        size,
        &r.first_ts[..19.min(r.first_ts.len())],
        &r.last_ts[..19.min(r.last_ts.len())],
    )?;
    let mut why = r.evidence.clone();
    for a in r.adjustments {
        why.push_str("; ");
        why.push_str(&a.reason);
    }
    if r.destination.novel {
        let first = r.destination.first_seen.to_string();
        why.push_str(&format!(
            "; new destination (first seen {})",
            &first[..19.min(first.len())]
        ));
    }
    writeln!(out, "{:>12}{why}", "")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) if o.help => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hunt: {e}");
            ExitCode::from(2)
        }
    }
}
