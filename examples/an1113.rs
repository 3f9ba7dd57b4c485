//! `cargo run --release --example an1113 -- [--json] [--svg DIR] [--known-host A=NAME] [FILE|DIR]...`
//!
//! AN1113 end to end: which scheduled or background process beacons out, who made it, and
//! what the data cannot see. Reads Windows events (Sysmon, Security, TaskScheduler; JSON lines
//! or `.evtx` with the `evtx` feature), connection logs (Zeek, CSV) and Zeek `dhcp.log`s (which
//! host had a source address when), from files, gzip or zip archives, or directories; prints the findings ranked with their lineage chains, then
//! coverage per host. With no input it runs on a bundled generated scenario.

use beaconstat::an1113::{An1113Builder, An1113Finding, An1113Report, HostCoverage};
use beaconstat::read::{DhcpLogReader, Inputs, LogContent};
use beaconstat::winevent::WinRecord;
use beaconstat::{Format, ReadOptions, ReadStats};
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HELP: &str = "\
an1113: which scheduled or background process beacons out, who made it, and what we cannot see

usage: an1113 [OPTIONS] [FILE|DIR]...

Inputs are Windows event logs (Sysmon, Security, TaskScheduler: JSON lines, or .evtx with the
evtx feature), connection logs (Zeek conn.log TSV/JSON, CSV) and Zeek dhcp.log (TSV/JSON: which
host had a conn.log source address when), plain, gzip or zip (JSON logs zipped, as OTRF ships
them); directories are walked (files that are no such log are passed over, with the reason).
Each file's skipped records are counted by reason. With no input, a bundled generated scenario
is used.

options:
  --json              one JSON object per line: {\"finding\": …} for each finding, then
                      {\"coverage\": …} for each host  [off]
  --svg DIR           write one timeline per finding with a task (check-ins, task runs marked)
                      into DIR  [off]
  --threads N         threads in all: with 2 or more, N - 1 parse and decode Windows events
                      (a large JSON file in chunks, side by side) while one takes them in
                      order for lineage and the join, and parses too when it would wait;
                      1: everything on one thread  [one per core]
  --known-host A=NAME address A is host NAME at all times (an inventory, a static address),
                      for host-level logs; DHCP leases come from dhcp.log inputs  [none]
  -h, --help          this text
";

fn main() -> ExitCode {
    let mut json = false;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut svg: Option<PathBuf> = None;
    let mut inputs = Vec::new();
    let mut known = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--threads" => match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if n >= 1 => threads = n,
                _ => return usage("--threads needs a number of at least 1"),
            },
            "--svg" => match args.next() {
                Some(d) => svg = Some(PathBuf::from(d)),
                None => return usage("--svg needs a directory"),
            },
            "--known-host" => match args.next().as_deref().and_then(|v| v.split_once('=')) {
                Some((a, n)) => known.push((a.to_owned(), n.to_owned())),
                None => return usage("--known-host needs ADDRESS=NAME"),
            },
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            s if s.starts_with('-') => return usage(&format!("unknown option {s}")),
            _ => inputs.push(PathBuf::from(a)),
        }
    }
    let mut b = An1113Builder::new();
    for (a, n) in &known {
        b.known_host(a, n);
    }
    let mut failed = false;
    let started = std::time::Instant::now();
    if inputs.is_empty() {
        eprintln!("no input: using the bundled generated scenario (3 hosts, 6 hours)");
        bundled(&mut b);
    } else {
        let opts = ReadOptions::new();
        // One path at a time, so a path that cannot be read leaves the others read.
        for i in &inputs {
            let scanned = match Inputs::scan(&[i]) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    failed = true;
                    continue;
                }
            };
            for p in scanned.passed_over() {
                eprintln!("passed over {}: {}", p.path.display(), p.reason);
            }
            for log in scanned.logs() {
                if let Err(e) = read(&mut b, &opts, threads, &log.path, log.format, &log.content) {
                    eprintln!("error: {e}");
                    failed = true;
                }
            }
        }
    }
    let collected = started.elapsed();
    let report = b.build();
    let built = started.elapsed() - collected;
    if json {
        failed |= print_json(&report).is_err();
    } else {
        print_text(&report);
    }
    if let Some(dir) = svg
        && let Err(e) = draw_all(&dir, &report)
    {
        eprintln!("error: --svg {}: {e}", dir.display());
        failed = true;
    }
    eprintln!(
        "read + collect {:.2} s, build {:.2} s, output {:.2} s",
        collected.as_secs_f64(),
        built.as_secs_f64(),
        (started.elapsed() - collected - built).as_secs_f64()
    );
    // The process ends here: the OS takes the report's memory back at once, where dropping
    // it frees its lineage's allocations one by one (2% of a 720-hour run).
    std::mem::forget(report);
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n\n{HELP}");
    ExitCode::from(2)
}

/// Reads one log through the reader layer: Windows events record by record (for lineage and
/// the join), connection logs event by event with their line numbers (for the references).
fn read(
    b: &mut An1113Builder,
    opts: &ReadOptions,
    threads: usize,
    path: &Path,
    format: Option<Format>,
    content: &LogContent,
) -> Result<(), String> {
    let name = path.display().to_string();
    if let LogContent::Names(kind) = content {
        eprintln!(
            "passed over {name}: a Zeek {} log (an1113 names destinations from Sysmon 22)",
            kind.as_str()
        );
        return Ok(());
    }
    if *content == LogContent::Dhcp {
        let mut r = DhcpLogReader::from_path_with(path, opts).map_err(|e| format!("{name}: {e}"))?;
        let file = b.file(&name);
        r.for_each(|d| b.push_dhcp(&d, file))
            .map_err(|e| format!("{name}: {e}"))?;
        eprintln!("read {name}: {} DHCP records, {}", r.stats().events, skipped(r.stats()));
        return Ok(());
    }
    // Opened alone, a file fails now on what would fail it (a bad CSV header, EVTX without
    // the evtx feature) instead of being counted as one skipped record.
    let mut r = opts.open(path).map_err(|e| format!("{name}: {e}"))?;
    let windows = matches!(format, Some(Format::WindowsEventJson | Format::Evtx));
    let (st, what) = if windows && threads > 1 {
        // Parsed and decoded on the other threads (a large JSON file in chunks, side by
        // side) while this one takes the records in order.
        drop(r);
        let read = b
            .push_parallel(&opts.open_parallel([path], threads - 1))
            .map_err(|e| format!("{name}: {e}"))?;
        // Records, not connections: every one was given to the builder.
        (read.stats().as_records(), "Windows records")
    } else if windows {
        let file = b.file(&name);
        r.for_each_record(|rec| b.push_record(rec, file))
            .map_err(|e| format!("{name}: {e}"))?;
        (r.stats().as_records(), "Windows records")
    } else {
        let file = b.file(&name);
        while let Some((ev, at)) = r.next_event_at().map_err(|e| format!("{name}: {e}"))? {
            b.push_conn(&ev, file, at.map(|p| p.line));
        }
        (r.stats(), "connections")
    };
    eprintln!("read {name}: {} {what}, {}", st.events, skipped(&st));
    Ok(())
}

/// "3 skipped (bad-json 2, too-long 1)", or "0 skipped".
fn skipped(st: &ReadStats) -> String {
    if st.by_reason.is_empty() {
        return format!("{} skipped", st.skipped);
    }
    let reasons: Vec<String> = st
        .by_reason
        .iter()
        .map(|(r, n)| format!("{} {n}", r.as_str()))
        .collect();
    format!("{} skipped ({})", st.skipped, reasons.join(", "))
}

fn bundled(b: &mut An1113Builder) {
    let s = beaconstat::synth::an1113_scenario(2024, 6.0);
    let file = b.file("bundled scenario (generated)");
    let mut rec = WinRecord::new();
    for l in &s.lines {
        if rec.parse_str(l).is_ok() {
            b.push_record(&rec, file);
        }
    }
    // The host seen only in conn.log is named by its DHCP lease (a day, from before the data).
    let (host, addr) = s.truth.host_level_only;
    let start = s.flows.iter().map(|f| f.ts).min().unwrap_or_default();
    let dhcp = format!(
        r#"{{"ts":{},"uids":["CdhcpWS03"],"mac":"00:50:56:0a:00:0d","host_name":"{}","client_fqdn":"{host}","assigned_addr":"{addr}","lease_time":86400.0,"msg_types":["REQUEST","ACK"]}}"#,
        start.as_micros() / 1_000_000 - 600,
        host.split('.').next().unwrap_or(host),
    );
    let file = b.file("bundled scenario dhcp.log (generated)");
    match DhcpLogReader::from_reader(dhcp.as_bytes()) {
        Ok(mut r) => {
            if let Err(e) = r.for_each(|d| b.push_dhcp(&d, file)) {
                eprintln!("error: bundled dhcp.log: {e}");
            }
        }
        Err(e) => eprintln!("error: bundled dhcp.log: {e}"),
    }
    let zeek = b.file("bundled scenario conn.log (generated)");
    for (i, f) in s.flows.iter().enumerate() {
        let ev = beaconstat::ConnEvent::new(f.ts, &f.src, &f.dst).with_dst_port(f.dst_port);
        b.push_conn(&ev, zeek, Some(i as u64 + 1));
    }
}

fn print_json(r: &An1113Report) -> Result<(), ()> {
    for f in &r.findings {
        match serde_json::to_string(&serde_json::json!({ "finding": f })) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(());
            }
        }
    }
    for c in &r.coverage {
        match serde_json::to_string(&serde_json::json!({ "coverage": c })) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(());
            }
        }
    }
    Ok(())
}

fn print_text(r: &An1113Report) {
    println!(
        "{} findings ({} process series, {} host-level series scored)\n",
        r.findings.len(),
        r.series_scored.0,
        r.series_scored.1
    );
    for (i, f) in r.findings.iter().enumerate() {
        print_finding(i + 1, f);
    }
    println!("coverage");
    for c in &r.coverage {
        print_coverage(c);
    }
}

fn print_finding(rank: usize, f: &An1113Finding) {
    let who = f
        .process
        .as_ref()
        .map(|p| {
            format!(
                "{} pid {}",
                p.image
                    .as_deref()
                    .map(|i| i.rsplit(['\\', '/']).next().unwrap_or(i))
                    .unwrap_or("?"),
                p.pid.map_or("?".into(), |x| x.to_string())
            )
        })
        .unwrap_or_else(|| "(host-level)".into());
    println!(
        "#{rank} {:?} {:.2}  {} {} -> {}:{}{}  [{}]",
        f.severity.level,
        f.severity.score,
        f.host,
        who,
        f.destination.addr,
        f.destination.port.map_or("?".into(), |p| p.to_string()),
        f.destination
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        f.direction.describe()
    );
    println!("   {}", f.report.explain());
    if let Some(c) = &f.chain {
        println!("   launcher: {:?}; join: {:?}", c.launcher, f.join);
        for (k, p) in c.processes.iter().enumerate() {
            println!(
                "   {}{} {} pid {}{}",
                "  ".repeat(k),
                if k == 0 { "process" } else { "└ parent" },
                p.image.as_deref().unwrap_or("?"),
                p.pid.map_or("?".into(), |x| x.to_string()),
                p.command_line
                    .as_deref()
                    .map(|c| format!("  [{c}]"))
                    .unwrap_or_default()
            );
        }
        if let Some(t) = &c.task {
            println!(
                "   task {} ({:?}): created {} by {} via {:?}{}",
                t.name,
                t.role,
                t.created.map_or("?".into(), |c| c.to_string()),
                t.creator_user.as_deref().unwrap_or("?"),
                t.method,
                if t.creator_chain.is_empty() {
                    String::new()
                } else {
                    format!(" from {}", t.creator_chain.join(" ← "))
                }
            );
            println!(
                "     action: {}; trigger every {}; {} runs",
                t.action.as_deref().unwrap_or("?"),
                t.trigger_interval.map_or("?".into(), |i| i.to_string()),
                t.runs
            );
        }
    }
    if let Some(m) = &f.address_mapping {
        println!("   address: {m}");
    }
    for c in f.host_candidates.iter().take(5) {
        println!("   candidate: {c}");
    }
    for r in &f.severity.reasons {
        println!("   - {r}");
    }
    if let Some(r) = f.references.first() {
        println!(
            "   first record: {} {}",
            r.file,
            match (r.record_id, r.line) {
                (Some(id), _) => format!("record {id}"),
                (None, Some(l)) => format!("line {l}"),
                _ => String::new(),
            }
        );
    }
    println!();
}

fn print_coverage(c: &HostCoverage) {
    println!(
        "  {}: AN1113 {}",
        c.host,
        if c.an1113.possible {
            "yes".to_owned()
        } else {
            format!("no: {}", c.an1113.why_not.join("; "))
        }
    );
    let counts: Vec<String> = c.telemetry.counts().iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("    telemetry: {}", counts.join(", "));
    let rate = |r: beaconstat::an1113::JoinRate| match r.share() {
        Some(s) => format!("{:.0}% ({}/{})", s * 100.0, r.joined, r.total),
        None => "-".into(),
    };
    println!(
        "    joins: network→process {}, process→parent {}, run→process {}, beacon→task {}",
        rate(c.joins.network_to_process),
        rate(c.joins.process_to_parent),
        rate(c.joins.run_to_process),
        rate(c.joins.beacon_to_task)
    );
    for b in &c.blind_spots {
        println!("    blind spot: {} — fix: {}", b.what, b.fix);
    }
}

fn draw_all(dir: &Path, r: &An1113Report) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    for (i, f) in r.findings.iter().enumerate() {
        let Some(task) = f.chain.as_ref().and_then(|c| c.task.as_ref()) else {
            continue;
        };
        let runs: Vec<i64> = r
            .lineage
            .task(&f.host, &task.name)
            .map(|t| t.runs.iter().filter_map(|r| r.started).map(|t| t.as_micros()).collect())
            .unwrap_or_default();
        let path = dir.join(format!("finding-{:03}.svg", i + 1));
        let title = format!(
            "{} {} -> {} ({})",
            f.host,
            task.name,
            f.destination.addr,
            f.report.explain()
        );
        timeline(
            &path,
            &title,
            &f.checkins.iter().map(|t| t.as_micros()).collect::<Vec<_>>(),
            &runs,
        )?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Check-ins as dots and task runs as red ticks on one time axis (minutes since the first).
fn timeline(path: &Path, title: &str, checkins: &[i64], runs: &[i64]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1100, 260)).into_drawing_area();
    root.fill(&WHITE)?;
    let t0 = checkins.iter().chain(runs).copied().min().unwrap_or(0);
    let t1 = checkins.iter().chain(runs).copied().max().unwrap_or(t0 + 1);
    let m = |t: i64| (t - t0) as f64 / 60e6;
    let mut c = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 14))
        .margin(12)
        .x_label_area_size(30)
        .build_cartesian_2d(0.0..m(t1).max(1.0), 0.0..2.0)?;
    c.configure_mesh()
        .x_desc("minutes since the first event")
        .disable_y_mesh()
        .disable_y_axis()
        .draw()?;
    let red = RGBColor(214, 39, 40);
    c.draw_series(
        runs.iter()
            .map(|&t| PathElement::new(vec![(m(t), 0.2), (m(t), 1.8)], red)),
    )?
    .label("task run")
    .legend(move |(x, y)| PathElement::new(vec![(x, y - 5), (x, y + 5)], red));
    let blue = RGBColor(31, 119, 180);
    c.draw_series(checkins.iter().map(|&t| Circle::new((m(t), 1.0), 3, blue.filled())))?
        .label("check-in")
        .legend(move |(x, y)| Circle::new((x, y), 3, blue.filled()));
    c.configure_series_labels().border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}
