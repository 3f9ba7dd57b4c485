//! `cargo run --release --example tasks -- [--json] FILE...`
//!
//! Reads Windows events (JSON lines in the evtx / Winlogbeat / flat NXLog shapes; `.evtx` with
//! the `evtx` feature) and prints, per host, each scheduled task's lineage as a tree:
//! creation method and creator → definition → runs → processes, with outliers and reasons;
//! then telemetry coverage and skipped-record counts. `--json` prints the whole lineage as one
//! JSON object on one line (JSON lines, as `hunt --json`). Inputs may be gzip or zip archives
//! and directories (read through `beaconstat::read::Inputs`). `tasks --help` lists every option.

use beaconstat::lineage::{HostLineage, Lineage, LineageBuilder, ProcessNode, TaskRun};
use beaconstat::read::{Inputs, LogContent, read_windows_events};
use beaconstat::{Format, ReadOptions, ReadStats};
use std::process::ExitCode;

/// `tasks --help`: every option, its default and what it does.
const HELP: &str = "\
tasks: scheduled-task lineage from Windows events: who created each task and how, its
definition, its runs and the processes they launched, with outliers and reasons.

Usage: tasks [OPTIONS] FILE...

Inputs:
  FILE                Windows events as JSON lines (evtx, Winlogbeat or flat NXLog shapes;
                      plain, gzip or zipped), or .evtx (needs --features evtx), or a
                      directory of them: Security 4688 and 4698-4702, TaskScheduler (106,
                      129, 140, 200, 201, ...), Sysmon 1, 3, 7, 11-13

Output:
  --json              the whole lineage (hosts, tasks, runs, processes, clocks, coverage) as
                      one JSON object on one line, to stdout [default: off, a tree per host]
  --threads N         threads in all (0: one per core): with 2 or more, N - 1 parse and
                      decode Windows events (a large JSON file in chunks, side by side) while
                      one takes them in order and parses too when it would wait; 1:
                      everything on one thread; the output is the same for every N
                      [default: 0]
  -h, --help          print this help and exit

Task definitions that cannot be parsed are listed (record, reason, byte offset in the XML)
and counted; nothing is dropped silently.

Exit status: 0 on success, 1 when an input could not be read or none of the input held a
readable Windows event, 2 on bad arguments.
";

const USAGE: &str = "usage: tasks [--json] [--threads N] FILE...   (tasks --help lists every option)";

fn main() -> ExitCode {
    let mut json = false;
    let mut threads = 0;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--threads" => match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => threads = n,
                None => {
                    eprintln!("tasks: --threads needs a number (0: one per core)\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            s if s.starts_with("--") => {
                eprintln!("tasks: unknown option {s}\n{USAGE}");
                return ExitCode::from(2);
            }
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    if threads == 0 {
        threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    }
    let mut b = LineageBuilder::new();
    let mut stats = ReadStats::default();
    let mut failed = false;
    for f in &files {
        if !std::path::Path::new(f).exists() {
            eprintln!("error: {f}: no such file or directory");
            failed = true;
            continue;
        }
        // Each argument on its own, so one bad path does not stop the others. Directories
        // are walked; gzip and zip inputs are read through the reader layer.
        let inputs = match Inputs::scan(&[f]) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        for p in inputs.passed_over() {
            eprintln!("note: {}: not read: {}", p.path.display(), p.reason);
        }
        for log in inputs.logs() {
            let path = log.path.display().to_string();
            if log.content == LogContent::Dhcp {
                eprintln!("note: {path}: not read: a Zeek dhcp log (address leases, no Windows events)");
                continue;
            }
            let read = if threads > 1 && log.format == Some(Format::WindowsEventJson) {
                // Parsed and decoded on the other threads, taken here in order.
                b.push_parallel(&ReadOptions::new().open_parallel([&log.path], threads - 1))
                    // Records, not connections (as `read_windows_events` counts them).
                    .map(|read| read.stats().as_records())
            } else {
                b.input(path.clone());
                read_windows_events(&log.path, |rec| b.push_record(rec))
            };
            match read {
                Ok(s) => {
                    if s.skipped > 0 {
                        eprintln!("{path}: {} records, {} skipped", s.events, s.skipped);
                        for sk in s.skipped_samples.iter().take(5) {
                            eprintln!("  skipped {sk}");
                        }
                    }
                    stats.merge(&s);
                }
                Err(e) => {
                    eprintln!("error: {path}: {e}");
                    failed = true;
                }
            }
        }
    }
    if stats.events == 0 {
        // Nothing to reconstruct from: say so, and fail, rather than print an empty lineage.
        let skipped = match stats.skipped {
            0 => String::new(),
            n => format!(" ({n} records skipped)"),
        };
        eprintln!("error: no Windows event could be read from the input{skipped}");
        failed = true;
    }
    let lin = b.build();
    if json {
        match serde_json::to_string(&lin) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print_tree(&lin, &stats);
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn proc_line(p: &ProcessNode) -> String {
    format!(
        "{} pid {} {}{}",
        p.ts,
        p.pid.map_or("?".into(), |x| x.to_string()),
        p.image.as_deref().unwrap_or("?"),
        p.command_line
            .as_deref()
            .map(|c| format!("  [{c}]"))
            .unwrap_or_default()
    )
}

fn print_run(h: &HostLineage, r: &TaskRun, indent: &str) {
    println!(
        "{indent}run {} {}{}{}",
        r.started.map_or("?".into(), |t| t.to_string()),
        r.instance_id.as_deref().unwrap_or(""),
        if r.events.is_empty() {
            String::new()
        } else {
            format!(" events {:?}", r.events)
        },
        r.result_code
            .as_deref()
            .map(|c| format!(" result {c}"))
            .unwrap_or_default()
    );
    if let Some(j) = &r.join {
        println!("{indent}  joined: {j}");
    }
    for &i in &r.processes {
        let p = &h.processes[i];
        // Depth under the launched process: ancestors up to it, within this run's processes.
        let mut depth = 0;
        if Some(i) != r.launched {
            for (c, _) in h.processes.ancestors(i) {
                if Some(c) == r.launched || depth > 32 {
                    depth += 1;
                    break;
                }
                if !r.processes.contains(&c) {
                    break;
                }
                depth += 1;
            }
        }
        println!("{indent}  {}└ {}", "  ".repeat(depth), proc_line(p));
        for c in &p.connections {
            println!(
                "{indent}  {}    ↳ {} {} -> {}:{}",
                "  ".repeat(depth),
                c.ts,
                c.proto,
                c.dst,
                c.dst_port.map_or("?".into(), |x| x.to_string())
            );
        }
    }
}

fn print_tree(lin: &Lineage, stats: &ReadStats) {
    for h in &lin.hosts {
        if h.tasks.is_empty() && h.unattributed_runs.is_empty() {
            continue;
        }
        println!("host {}", h.host);
        for t in &h.tasks {
            let tag = if t.builtin { " (built-in)" } else { "" };
            println!("  task {}{tag}  suspicion {}", t.name, t.suspicion());
            let c = &t.creation;
            println!(
                "    {}: {:?}{} by {}{}",
                if c.by_update { "updated" } else { "created" },
                c.method,
                if c.remote { " (remote)" } else { "" },
                c.user.as_deref().unwrap_or("?"),
                c.remote_source
                    .as_deref()
                    .map(|s| format!(" from {s}"))
                    .unwrap_or_default()
            );
            if let Some(pl) = &c.process
                && let Some(p) = lin.host(&pl.host).and_then(|hh| hh.processes.get(pl.id))
            {
                println!("      creator on {}: {}", pl.host, proc_line(p));
                if let Some(pi) = &p.parent_image {
                    println!("        parent: {pi}");
                }
                if let Some(s) = &p.signer {
                    println!("        image {s}");
                }
            }
            for e in &c.evidence {
                println!("      evidence: {e}");
            }
            for (ch, i) in lin.creator_chain(t).into_iter().skip(1) {
                println!("      creator ancestor: {}", proc_line(&ch.processes[i]));
            }
            for cn in lin.creator_connections(t) {
                println!(
                    "      creator chain connection: {} {} -> {}:{}{}",
                    cn.ts,
                    cn.proto,
                    cn.dst,
                    cn.dst_port.map_or("?".into(), |x| x.to_string()),
                    cn.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
                );
            }
            if let Some(d) = &t.definition {
                let actions: Vec<String> = d.actions.iter().map(|a| a.command_line()).collect();
                println!(
                    "    definition (from {}): run as {} | actions {:?} | period {} | hidden {}{}",
                    match t.definition_source {
                        Some(beaconstat::lineage::DefinitionSource::Xml) => "task XML",
                        Some(beaconstat::lineage::DefinitionSource::CommandLine) => "command line",
                        _ => "?",
                    },
                    d.principal.describe(),
                    actions,
                    t.period.map_or("-".into(), |p| p.to_string()),
                    t.hidden,
                    if d.truncated { " | XML truncated" } else { "" }
                );
                for tr in &d.triggers {
                    println!("      trigger: {}", tr.describe());
                }
                if !d.enabled {
                    println!("      disabled (Settings Enabled false)");
                }
                if let Some(after) = d.delete_expired_after {
                    println!("      deleted {after} after it expires (DeleteExpiredTaskAfter)");
                }
            }
            for l in &t.life {
                let who = l.who();
                let how = l
                    .image
                    .as_deref()
                    .map(|i| format!(" with {}", i.rsplit('\\').next().unwrap_or(i)))
                    .unwrap_or_default();
                let by = if who.is_empty() && how.is_empty() {
                    String::new()
                } else {
                    format!(" {who}{how}").replace("  ", " ")
                };
                println!("    {} {:?} ({}){by}", l.ts, l.what, l.source);
            }
            if t.short_lived {
                println!("    short-lived task");
            }
            for r in &t.runs {
                print_run(h, r, "    ");
            }
            for f in &t.findings {
                let who = f
                    .process
                    .and_then(|i| h.processes.get(i))
                    .and_then(|p| p.image_name())
                    .map(|n| format!(" [{n}]"))
                    .unwrap_or_default();
                println!("    ! {:?}{who}: {}", f.reason, f.detail);
            }
        }
        for r in &h.unattributed_runs {
            println!("  run not tied to a task:");
            print_run(h, r, "    ");
            for c in &r.candidates {
                println!(
                    "      candidate task {}: {:?} {} before{}",
                    c.task,
                    c.after,
                    c.gap,
                    if c.action_matches {
                        ", its action names this image"
                    } else {
                        ""
                    }
                );
            }
        }
        if !h.unresolved_parents.is_empty() {
            println!(
                "  {} processes with parents not in the data",
                h.unresolved_parents.len()
            );
        }
    }
    for c in &lin.clocks {
        let field = c.source.as_str();
        let sysmon = c.median_skew.map_or_else(
            || "no Sysmon records".to_owned(),
            |m| format!("median UtcTime-{field} {m} over {} Sysmon records", c.samples),
        );
        let collector = c.collector_lag.map_or_else(String::new, |l| {
            format!(
                ", collector @timestamp {l} after the event over {} records",
                c.collector_samples
            )
        });
        println!(
            "clock {} ({field}): {sysmon}, correction {}, {} records disagree{collector}",
            c.host, c.correction, c.disagreeing
        );
    }
    for s in &lin.skipped_definitions {
        println!("skipped definition: {s}");
    }
    let cov = &lin.coverage;
    println!(
        "coverage: {} records, {} task events ({} TaskScheduler), {} Sysmon 1, {} 4688 ({} merged into Sysmon 1; {} with command line), {} Sysmon 3 ({} with process)",
        cov.records,
        cov.task_events,
        cov.task_scheduler_events,
        cov.sysmon1,
        cov.security4688,
        cov.merged_4688,
        cov.with_command_line,
        cov.network_events,
        cov.network_with_process
    );
    for g in &cov.gaps {
        println!("  gap: {g}");
    }
    println!(
        "input: {} records read, {} skipped; {} task definitions skipped",
        stats.events, stats.skipped, cov.definitions_skipped
    );
}
