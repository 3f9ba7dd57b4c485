//! Process instances over time in the AN1113 join: a reused PID is another process (ended by
//! its termination, 4689 or Sysmon 5, or by the next creation of the PID), network events go
//! to the instance alive at their time, and the host-level join lists the tasks and processes
//! whose lifetimes cover a beacon's span, saying when one is open-ended.

use beaconstat::an1113::{An1113Builder, An1113Report, JoinBasis};
use beaconstat::winevent::WinRecord;
use beaconstat::{ConnEvent, Timestamp};

/// 2023-11-14T22:13:20Z, the scenarios' origin.
const T0: i64 = 1_700_000_000;
const POWERSHELL: &str = r"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";

fn iso(secs: i64) -> String {
    Timestamp((T0 + secs) * 1_000_000).to_string()
}

/// Feeds JSON records (one a line) to a builder.
struct Feed {
    b: An1113Builder,
    rec: WinRecord,
    file: beaconstat::an1113::FileId,
}

impl Feed {
    fn new() -> Self {
        let mut b = An1113Builder::new();
        let file = b.file("events.json");
        Feed {
            b,
            rec: WinRecord::new(),
            file,
        }
    }

    fn push(&mut self, json: &str) {
        self.rec.parse_str(json).unwrap();
        self.b.push_record(&self.rec, self.file);
    }

    /// `n` Security 5156 connections of PID `pid` (powershell) to 203.0.113.50:443, `every` s
    /// apart from `start`.
    fn wfp(&mut self, pid: u32, start: i64, every: i64, n: i64) {
        for i in 0..n {
            let t = iso(start + i * every);
            self.push(&format!(
                r#"{{"EventID":5156,"Channel":"Security","Hostname":"WS9","TimeCreated":"{t}","Direction":"%%14593","SourceAddress":"10.1.1.9","SourcePort":"{}","DestAddress":"203.0.113.50","DestPort":"443","Protocol":"6","ProcessId":"{pid}","Application":"\\device\\harddiskvolume2\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe"}}"#,
                40_000 + i
            ));
        }
    }

    /// Security 4688 of powershell with PID `pid` at `at`.
    fn created(&mut self, pid: u32, at: i64) {
        let t = iso(at);
        self.push(&format!(
            r#"{{"EventID":4688,"Channel":"Security","Hostname":"WS9","TimeCreated":"{t}","NewProcessId":"{pid:#x}","NewProcessName":"{POWERSHELL}","ProcessId":"0x2a0","ParentProcessName":"C:\\Windows\\explorer.exe","CommandLine":"powershell.exe -nop -w hidden","SubjectUserName":"bob","SubjectDomainName":"CORP","SubjectLogonId":"0x3e7"}}"#
        ));
    }

    /// Security 4689 of PID `pid` at `at`.
    fn exited(&mut self, pid: u32, at: i64) {
        let t = iso(at);
        self.push(&format!(
            r#"{{"EventID":4689,"Channel":"Security","Hostname":"WS9","TimeCreated":"{t}","ProcessId":"{pid:#x}","ProcessName":"{POWERSHELL}","Status":"0x0"}}"#
        ));
    }

    /// A TaskScheduler run of task `name` (200 at `start`, 201 at `end`).
    fn run(&mut self, name: &str, instance: &str, start: i64, end: i64) {
        for (id, at) in [(200, start), (201, end)] {
            let t = iso(at);
            self.push(&format!(
                r#"{{"EventID":{id},"Channel":"Microsoft-Windows-TaskScheduler/Operational","Hostname":"WS9","TimeCreated":"{t}","TaskName":"\\{name}","TaskInstanceId":"{instance}","ActionName":"{POWERSHELL}","EnginePID":"100","ResultCode":"0"}}"#
            ));
        }
    }

    fn build(self) -> An1113Report {
        self.b.build()
    }
}

/// The findings' (period, join basis), shortest period first.
fn periods(r: &An1113Report) -> Vec<(f64, JoinBasis)> {
    let mut v: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.report.period.unwrap().as_secs_f64(), f.join))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// One PID, two powershell processes hours apart that no creation event names: the 4689
/// between them makes two instances, each with its own period; without it they merge.
#[test]
fn a_termination_ends_an_instance_of_a_reused_pid() {
    for terminated in [true, false] {
        let mut f = Feed::new();
        f.wfp(4052, 0, 60, 40);
        if terminated {
            f.exited(4052, 2_400 + 30);
        }
        f.wfp(4052, 20_000, 600, 12);
        let r = f.build();
        let p = periods(&r);
        if terminated {
            assert_eq!((p.len(), r.series_scored.0), (2, 2), "{p:?}");
            assert!((p[0].0 - 60.0).abs() < 1.0 && (p[1].0 - 600.0).abs() < 10.0, "{p:?}");
            assert!(p.iter().all(|(_, j)| *j == JoinBasis::ProcessNotInData));
        } else {
            // The control: without the termination nothing says the PID changed hands.
            assert_eq!(r.series_scored.0, 1, "{p:?}");
        }
    }
}

/// The next creation of the PID ends the instance before it: the connections before the 4688
/// are a process not in the data, those after it are the new process's, joined by PID and time.
#[test]
fn the_next_creation_of_a_pid_ends_the_instance_before_it() {
    let mut f = Feed::new();
    f.wfp(4052, 0, 60, 40);
    f.created(4052, 20_000 - 5);
    f.wfp(4052, 20_000, 600, 12);
    let r = f.build();
    let p = periods(&r);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].1, JoinBasis::ProcessNotInData);
    assert_eq!(p[1].1, JoinBasis::PidAndTime);
    let started = r.findings.iter().find(|f| f.join == JoinBasis::PidAndTime).unwrap();
    let proc = started.process.as_ref().unwrap();
    assert_eq!(proc.pid, Some(4052));
    assert_eq!(proc.started, Some(Timestamp((T0 + 20_000 - 5) * 1_000_000)));
}

/// A process of the tree ended by its 4689: connections of its PID after that (an unseen new
/// process) are not its own.
#[test]
fn connections_after_a_termination_are_not_the_ended_process() {
    let mut f = Feed::new();
    f.created(4052, -10);
    f.wfp(4052, 0, 60, 40);
    f.exited(4052, 2_400 + 30);
    f.wfp(4052, 20_000, 600, 12);
    let r = f.build();
    let p = periods(&r);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].1, JoinBasis::PidAndTime, "the 60 s beacon is the logged process");
    assert_eq!(p[1].1, JoinBasis::ProcessNotInData, "the 600 s one is a later process");
}

/// Host-level connections only (Zeek): the processes listed for the beacon are those alive
/// over its whole span, with their end where a termination says it, open-ended where none does;
/// one that ended in the middle of the span is not listed.
#[test]
fn the_host_join_lists_processes_whose_lifetime_covers_the_span() {
    let mut f = Feed::new();
    // pid 100 covers the span and ends after it; 200 ends in its middle; 300 never ends.
    f.created(100, -100);
    f.created(200, -90);
    f.created(300, -80);
    f.exited(200, 3_000);
    f.exited(100, 9_500);
    // A task run over the whole span (201 after it), and one over its first minutes only.
    f.run("Sync", "{51}", -50, 9_000);
    f.run("Short", "{52}", -40, 100);
    let mut b = f.b;
    b.known_host("10.1.1.9", "WS9");
    let zeek = b.file("conn.log");
    for i in 0..30 {
        let ts = Timestamp((T0 + i * 300) * 1_000_000);
        b.push_conn(
            &ConnEvent::new(ts, "10.1.1.9", "198.51.100.7").with_dst_port(443),
            zeek,
            Some(i as u64 + 1),
        );
    }
    let r = b.build();
    let f = r
        .findings
        .iter()
        .find(|f| f.join == JoinBasis::HostAndTime)
        .expect("a host-level finding");
    assert_eq!(f.host, "WS9");
    let listed = |kind: &str| -> Vec<&str> {
        f.host_candidates
            .iter()
            .filter(|c| c.starts_with(kind))
            .map(String::as_str)
            .collect()
    };
    let procs = listed("process ");
    assert_eq!(procs.len(), 2, "{procs:?}");
    assert!(
        procs[0].contains("pid 100") && procs[0].contains(&format!("ended {}", iso(9_500))),
        "{procs:?}"
    );
    assert!(
        procs[1].contains("pid 300") && procs[1].contains("no end logged (open-ended)"),
        "{procs:?}"
    );
    assert!(procs.iter().all(|c| c.ends_with("(by host and time only)")));
    let tasks = listed("task ");
    // Both runs start just before the first check-in; the one over the whole span ranks first.
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(
        tasks[0],
        format!(
            r"task \Sync, 1 runs followed by a check-in, a run from {} to {} covers the beacon's span (by host and time only)",
            iso(-50),
            iso(9_000)
        )
    );
    assert_eq!(
        tasks[1],
        r"task \Short, 1 runs followed by a check-in (by host and time only)"
    );
}
