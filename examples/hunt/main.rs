//! Beacon hunting from connection logs, as an analyst does it: read the logs, group connections
//! into series, score every series, apply the allowlist, and print a ranked, explained table,
//! JSON lines, or pictures.
//!
//! ```text
//! cargo run --release --example hunt                           # the bundled demo network
//! cargo run --release --example hunt -- conn.log conn.*.log.gz  # your Zeek logs
//! cargo run --release --example hunt -- logs/ --json > beacons.jsonl
//! cargo run --release --example hunt -- conn.log --svg out/ --top 5
//! ```
//!
//! Options:
//! - `--json`: one JSON object per series with at least `--min-events` events, to stdout.
//! - `--svg DIR`: one SVG per top series (timeline, interval histogram, periodogram, ACF).
//! - `--top K`: rows in the table and pictures (default 15).
//! - `--min-events N`: smallest series scored and reported (default 6).
//! - `--threshold T`: score from which a series counts as a beacon (default 0.5). The ranking
//!   score is the beacon score × persistence (series spanning under a tenth of the capture are
//!   damped) × any allowlist downrank factor; `raw_score` in JSON is the beacon score alone.
//! - `--group-by pair|ip-pair|host-process`: (src, dst, port) (default), (src, dst), or
//!   (host, process image, dst) for endpoint telemetry.
//! - `--allowlist FILE`: site rules applied after the built-in defaults; `--no-allowlist`.
//! - `--strict`: stop at the first malformed record instead of counting it as skipped.
//!
//! Inputs: Zeek conn.log (TSV, JSON, gzip), CSV, and Sysmon network connections (event 3) from
//! Windows event JSON (or `.evtx` with `--features evtx`), where each connection names its process.
//!
//! Exit status: 0 on success, 2 on unreadable files, unknown formats or bad arguments.

mod plot;

use beaconstat::synth::Scenario;
use beaconstat::{
    Action, Allowlist, AllowlistSummary, Analyzer, AnyReader, Format, GroupBy, Grouper, PERSISTENT_SHARE, ReadStats,
    SeriesKey, SeriesSet, detect, human_secs, persistence, read_windows_events, score_set, sysmon_conn_event,
};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const SITE_ALLOWLIST_DEMO: &str = include_str!("../data/site-allowlist.json");

#[derive(Debug)]
struct Options {
    inputs: Vec<PathBuf>,
    json: bool,
    svg: Option<PathBuf>,
    top: usize,
    min_events: usize,
    threshold: f64,
    group_by: String,
    allowlist: Option<PathBuf>,
    no_allowlist: bool,
    strict: bool,
}

fn usage() -> &'static str {
    "usage: hunt [FILE|DIR ...] [--json] [--svg DIR] [--top K] [--min-events N] [--threshold T]\n\
     \x20           [--group-by pair|ip-pair|host-process] [--allowlist FILE | --no-allowlist] [--strict]"
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        inputs: Vec::new(),
        json: false,
        svg: None,
        top: 15,
        min_events: 6,
        threshold: 0.5,
        group_by: "pair".into(),
        allowlist: None,
        no_allowlist: false,
        strict: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n{}", usage()));
        match a.as_str() {
            "--json" => o.json = true,
            "--svg" => o.svg = Some(PathBuf::from(value("--svg")?)),
            "--top" => o.top = value("--top")?.parse().map_err(|e| format!("--top: {e}"))?,
            "--min-events" => {
                o.min_events = value("--min-events")?
                    .parse()
                    .map_err(|e| format!("--min-events: {e}"))?
            }
            "--threshold" => o.threshold = value("--threshold")?.parse().map_err(|e| format!("--threshold: {e}"))?,
            "--group-by" => o.group_by = value("--group-by")?,
            "--allowlist" => o.allowlist = Some(PathBuf::from(value("--allowlist")?)),
            "--no-allowlist" => o.no_allowlist = true,
            "--strict" => o.strict = true,
            "-h" | "--help" => return Err(usage().to_string()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{}", usage())),
            _ => o.inputs.push(PathBuf::from(a)),
        }
    }
    if !matches!(o.group_by.as_str(), "pair" | "ip-pair" | "host-process") {
        return Err(format!("--group-by: unknown grouping {:?}\n{}", o.group_by, usage()));
    }
    Ok(o)
}

/// Files to read: each argument, or the log files in a directory (sorted by name, so rotated
/// logs come in time order).
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    f.is_file() && name.starts_with("conn") && !name.ends_with(".md")
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("{}: no conn*.log files in this directory", p.display()));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// A reader that counts the bytes it has passed on (for the progress bar).
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The format of a file from its first bytes (gzip is looked inside).
fn sniff(path: &std::path::Path) -> Result<Option<Format>, String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut prefix = vec![0u8; 64 * 1024];
    let mut filled = 0;
    while filled < prefix.len() {
        match file.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(detect(&prefix[..filled]))
}

fn group_by(name: &str) -> GroupBy {
    match name {
        "ip-pair" => GroupBy::Pair,
        "host-process" => GroupBy::HostProcessDst,
        _ => GroupBy::PairPort,
    }
}

/// Reads every input into one grouper; returns the series and the merged read statistics.
fn read_all(
    o: &Options,
    files: &[PathBuf],
    coverage: &mut NetCoverage,
) -> Result<(SeriesSet, ReadStats, Vec<String>), String> {
    let mut grouper = Grouper::new(group_by(&o.group_by));
    let mut stats = ReadStats::default();
    let mut sources = Vec::new();
    if files.is_empty() {
        let scenario = Scenario::builder().build();
        let text = scenario.to_zeek_tsv();
        sources.push(format!(
            "bundled demo network: {} connections, {} hosts, {} days, {:.0} MB of Zeek conn.log (generated)",
            scenario.len(),
            200,
            3,
            text.len() as f64 / 1e6
        ));
        let mut reader = AnyReader::from_reader(text.as_bytes(), o.strict).map_err(|e| e.to_string())?;
        reader
            .for_each(|ev| {
                coverage.see(&ev);
                grouper.push(&ev);
            })
            .map_err(|e| e.to_string())?;
        stats.merge(reader.stats());
        return Ok((grouper.finish(), stats, sources));
    }
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bytes = Arc::new(AtomicU64::new(0));
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
    let mut done_before = 0u64;
    let coverage = &mut *coverage;
    for f in files {
        let is_evtx = f.extension().is_some_and(|e| e.eq_ignore_ascii_case("evtx"));
        if is_evtx || sniff(f)? == Some(Format::WindowsEventJson) {
            // Sysmon / Windows event logs: network connections are Sysmon event 3, with the
            // process behind each one.
            let (mut conns, mut others) = (0u64, 0u64);
            let st = read_windows_events(f, |rec| match sysmon_conn_event(rec) {
                Some(ev) => {
                    coverage.see(&ev);
                    grouper.push(&ev);
                    conns += 1;
                }
                None => others += 1,
            })
            .map_err(|e| format!("{}: {e}", f.display()))?;
            sources.push(format!(
                "{} (windows events): {} records, {} Sysmon network connections, {} other events, {} skipped",
                f.display(),
                st.records,
                conns,
                others,
                st.skipped
            ));
            for s in st.skips.iter().take(3) {
                sources.push(format!("  skipped {s:?}"));
            }
            continue;
        }
        let file = std::fs::File::open(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let counting = Counting {
            inner: file,
            bytes: Arc::clone(&bytes),
        };
        let mut reader = AnyReader::from_reader(counting, o.strict).map_err(|e| format!("{}: {e}", f.display()))?;
        let mut n = 0u64;
        let res = reader.for_each(|ev| {
            coverage.see(&ev);
            grouper.push(&ev);
            n += 1;
            if n.is_multiple_of(1 << 16)
                && let Some(b) = &bar
            {
                b.set_position(done_before + bytes.load(Ordering::Relaxed));
            }
        });
        res.map_err(|e| format!("{}: {e}", f.display()))?;
        let st = reader.stats();
        sources.push(format!(
            "{} ({}): {} records, {} events, {} skipped",
            f.display(),
            reader.format(),
            st.records,
            st.events,
            st.skipped
        ));
        stats.merge(st);
        done_before += bytes.swap(0, Ordering::Relaxed);
        if let Some(b) = &bar {
            b.set_position(done_before);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((grouper.finish(), stats, sources))
}

/// What the network telemetry lets a hunter see: which events name a host and a process.
#[derive(Debug, Default)]
struct NetCoverage {
    events: u64,
    with_process: u64,
    with_host: u64,
    with_bytes: u64,
}

impl NetCoverage {
    fn see(&mut self, ev: &beaconstat::ConnEvent<'_>) {
        self.events += 1;
        self.with_process += u64::from(ev.process.is_some_and(|p| p.image.is_some() || p.guid.is_some()));
        self.with_host += u64::from(ev.host.is_some());
        self.with_bytes += u64::from(ev.bytes_out.is_some());
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
    suppressed_by: Option<String>,
    downranked_by: Option<String>,
    subscores: beaconstat::SubScores,
    evidence: String,
    #[serde(skip)]
    index: usize,
    #[serde(skip)]
    key: SeriesKey<'a>,
}

fn run(o: &Options) -> Result<(), String> {
    let started = Instant::now();
    let files = expand(&o.inputs)?;
    let mut coverage = NetCoverage::default();
    let (set, stats, sources) = read_all(o, &files, &mut coverage)?;
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
    let reports = score_set(&set, analyzer.config(), o.min_events);
    let mut summary = AllowlistSummary::new();
    let mut rows: Vec<Row<'_>> = Vec::new();
    // Persistence is judged against the time each source was observed: the union of the spans
    // of its series (so separate captures of one host, days apart, do not dilute each other).
    let observed = observed_time_per_source(&set);
    for (index, report) in reports {
        let Some(s) = set.get(index) else { continue };
        let (Some(first), Some(observed_s)) = (s.first(), observed.get(s.key().src.or(s.key().host).unwrap_or("")))
        else {
            continue;
        };
        let window = (
            first,
            beaconstat::Timestamp(first.0.saturating_add((observed_s * 1e6) as i64)),
        );
        let key = s.key();
        let rule = allow.match_key(&key, None);
        // Rank by the score damped for short bursts (see `beaconstat::persistence`).
        let persistence = persistence(&report, window);
        let (mut suppressed_by, mut downranked_by, mut score) = (None, None, report.score * persistence);
        if let Some(rule) = rule {
            if score >= o.threshold {
                summary.record(rule);
            }
            match rule.action() {
                Action::Suppress => suppressed_by = Some(rule.name().to_string()),
                Action::Downrank(f) => {
                    downranked_by = Some(rule.name().to_string());
                    score *= f;
                }
            }
        }
        rows.push(Row {
            src: key.src.or(key.host),
            dst: key.dst.or(key.name),
            dst_port: key.dst_port,
            host: key.host,
            process: key.process,
            events: report.events,
            beats: report.beats,
            score,
            raw_score: report.score,
            persistence,
            period_s: report.period_s,
            jitter: report.jitter,
            missed: report.missed,
            p_value: report.p_value,
            explained: report.explained,
            chance: report.chance,
            size_regularity: report.subscores.size,
            first_ts: report.first.to_string(),
            last_ts: report.last.to_string(),
            suppressed_by,
            downranked_by,
            subscores: report.subscores,
            evidence: report.explain().to_string(),
            index: s.index(),
            key,
        });
    }
    rows.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.events.cmp(&a.events)));
    let score_time = score_started.elapsed();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| format!("writing output: {e}");
    if o.json {
        for r in &rows {
            serde_json::to_writer(&mut out, r).map_err(|e| format!("writing output: {e}"))?;
            writeln!(out).map_err(io)?;
        }
    } else {
        print_table(&mut out, o, &rows).map_err(io)?;
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
    let beacons = rows
        .iter()
        .filter(|r| r.suppressed_by.is_none() && r.score >= o.threshold)
        .count();
    let _ = writeln!(
        err,
        "{} events in {} series; {} series with >= {} events scored; {} at or above {} after the allowlist",
        set.events(),
        set.len(),
        rows.len(),
        o.min_events,
        beacons,
        o.threshold
    );
    let _ = writeln!(err, "{summary}");
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
        for (rank, r) in rows
            .iter()
            .filter(|r| r.suppressed_by.is_none())
            .take(o.top)
            .enumerate()
        {
            let Some(series) = set.get(r.index) else { continue };
            let evidence = analyzer.evidence(series.timestamps(), series.sizes());
            let path = dir.join(svg_name(rank + 1, &r.key));
            plot::render(&path, &r.key.to_string(), &evidence).map_err(|e| format!("{}: {e}", path.display()))?;
            written += 1;
        }
        let _ = writeln!(err, "wrote {written} SVG files to {}", dir.display());
    }
    Ok(())
}

/// Seconds each source was observed: the union of the time spans of its series.
fn observed_time_per_source(set: &SeriesSet) -> std::collections::HashMap<&str, f64> {
    let mut spans: std::collections::HashMap<&str, Vec<(i64, i64)>> = std::collections::HashMap::new();
    for s in set.iter() {
        if let (Some(a), Some(b)) = (s.first(), s.last()) {
            spans
                .entry(s.key().src.or(s.key().host).unwrap_or(""))
                .or_default()
                .push((a.0, b.0));
        }
    }
    spans
        .into_iter()
        .map(|(src, mut v)| {
            v.sort_unstable();
            let (mut total, mut cur): (u64, Option<(i64, i64)>) = (0, None);
            for (a, b) in v {
                cur = match cur {
                    Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
                    Some((ca, cb)) => {
                        total += cb.abs_diff(ca);
                        Some((a, b))
                    }
                    None => Some((a, b)),
                };
            }
            if let Some((ca, cb)) = cur {
                total += cb.abs_diff(ca);
            }
            (src, total as f64 / 1e6)
        })
        .collect()
}

fn svg_name(rank: usize, key: &SeriesKey<'_>) -> String {
    let clean: String = key
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect();
    format!("{rank:02}_{clean}.svg")
}

fn print_table(out: &mut impl Write, o: &Options, rows: &[Row<'_>]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>4} {:>5}  {:<42} {:>6} {:>9} {:>6} {:>6} {:>8} {:>5}  {:<20} {:<20}",
        "rank", "score", "series", "events", "period", "jitter", "missed", "p-value", "size", "first seen", "last seen"
    )?;
    for (i, r) in rows
        .iter()
        .filter(|r| r.suppressed_by.is_none())
        .take(o.top)
        .enumerate()
    {
        let size = r.size_regularity.map_or("-".to_string(), |s| format!("{s:.2}"));
        writeln!(
            out,
            "{:>4} {:>5.2}  {:<42} {:>6} {:>9} {:>5.0}% {:>5.0}% {:>8} {:>5}  {:<20} {:<20}",
            i + 1,
            r.score,
            truncate(&r.key.to_string(), 42),
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
        if r.persistence < 1.0 {
            why.push_str(&format!(
                "; short-lived: spans {:.1}% of its source's time (score x{:.2})",
                100.0 * PERSISTENT_SHARE * r.persistence * r.persistence,
                r.persistence
            ));
        }
        if let Some(d) = &r.downranked_by {
            why.push_str(&format!(
                "; downranked by allowlist rule {d} (raw score {:.2})",
                r.raw_score
            ));
        }
        writeln!(out, "{:>12}{why}", "")?;
    }
    Ok(())
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
