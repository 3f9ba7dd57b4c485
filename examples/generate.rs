//! Writes a generated network as a Zeek conn.log (TSV) to stdout, and its ground truth as JSON
//! lines to stderr: the workloads of the benchmarks and the peer comparison.
//!
//! ```text
//! cargo run --release --example generate > demo.conn.log                  # the hunt default
//! cargo run --release --example generate -- --hosts 500 --days 7 --browsing 400 --servers 5 > w1.conn.log
//! cargo run --release --example generate -- --scenario server > server.conn.log  # internet-facing server
//! cargo run --release --example generate -- --scenario an1113 > an1113.json  # Windows events, 48 h
//! cargo run --release --example generate -- --corpus 12 > corpus.conn.log 2> corpus.truth.jsonl  # the labelled evaluation corpus
//! ```
use beaconstat::synth::{Corpus, Scenario, ServerScenario};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut b = Scenario::builder();
    let mut args = std::env::args().skip(1);
    let mut server = ServerScenario::builder();
    let mut is_server = false;
    while let Some(a) = args.next() {
        let v = args.next();
        if a == "--scenario" && v.as_deref() == Some("an1113") {
            return write_an1113(args.collect());
        }
        if a == "--scenario" && v.as_deref() == Some("server") {
            is_server = true;
            continue;
        }
        if is_server {
            // The server scenario's own settings.
            if let (Some("--days"), Some(d)) = (Some(a.as_str()), v.as_deref().and_then(|s| s.parse().ok())) {
                server = server.days(d);
                continue;
            }
        }
        let num = |v: Option<String>| v.and_then(|s| s.parse::<f64>().ok());
        match (a.as_str(), num(v)) {
            ("--hosts", Some(n)) => b.hosts(n as u32),
            ("--days", Some(n)) => b.days(n),
            ("--seed", Some(n)) => b.seed(n as u64),
            ("--browsing", Some(n)) => b.browsing_per_host_day(n as usize),
            ("--servers", Some(n)) => b.web_servers(n as usize),
            ("--corpus", Some(n)) => return write_corpus(n as u64),
            _ => {
                eprintln!(
                    "usage: generate [--hosts N] [--days D] [--seed S] [--browsing PER_HOST_DAY] [--servers N]\n\
                     \x20      generate --scenario server [--days D]\n\
                     \x20      generate --scenario an1113 [--hours H] [--seed S]\n\
                     \x20      generate --corpus SEED"
                );
                return ExitCode::from(2);
            }
        };
    }
    if is_server {
        let s = server.build();
        let mut out = std::io::stdout().lock();
        if out
            .write_all(s.to_zeek_tsv().as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return ExitCode::from(2);
        }
        eprintln!("{:?}", s.truth());
        return ExitCode::SUCCESS;
    }
    let s = b.build();
    let mut text = String::new();
    s.write_zeek_tsv(&mut text);
    let mut out = std::io::stdout().lock();
    if out.write_all(text.as_bytes()).and_then(|_| out.flush()).is_err() {
        return ExitCode::from(2);
    }
    let mut err = std::io::stderr().lock();
    for t in s.truth() {
        let _ = writeln!(err, "{}", serde_json::to_string(t).unwrap_or_default());
    }
    ExitCode::SUCCESS
}

/// The AN1113 scenario's Windows events (`synth::an1113_scenario`: Sysmon 1/3/22, Security
/// 4698/4688/5156, TaskScheduler runs on 3 hosts) as JSON lines; by default the 48 hours of
/// seed 11 that `benches/an1113.rs` measures.
fn write_an1113(rest: Vec<String>) -> ExitCode {
    let (mut hours, mut seed) = (48.0, 11);
    for kv in rest.chunks(2) {
        match (kv[0].as_str(), kv.get(1).and_then(|v| v.parse::<f64>().ok())) {
            ("--hours", Some(h)) if h >= 1.0 => hours = h,
            ("--seed", Some(s)) if s >= 0.0 => seed = s as u64,
            _ => {
                eprintln!("usage: generate --scenario an1113 [--hours H (at least 1)] [--seed S]");
                return ExitCode::from(2);
            }
        }
    }
    let s = beaconstat::synth::an1113_scenario(seed, hours);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for l in &s.lines {
        if writeln!(out, "{l}").is_err() {
            return ExitCode::from(2);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// The labelled evaluation corpus (see `examples/evaluate.rs`) as a conn.log, its truth as JSON lines.
fn write_corpus(seed: u64) -> ExitCode {
    let corpus = Corpus::builder().seed(seed).build();
    let mut out = std::io::stdout().lock();
    if out
        .write_all(corpus.to_zeek_tsv().as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    let mut err = std::io::stderr().lock();
    for t in corpus.truth() {
        let _ = writeln!(err, "{}", serde_json::to_string(&t).unwrap_or_default());
    }
    ExitCode::SUCCESS
}
