//! [`An1113Builder`]: takes Windows records and host-level connections from any number of
//! files, feeds scheduled-task lineage, and keeps the network events (interned, no
//! allocation per event once their strings are known) for the join.

use super::config::An1113Config;
use super::coverage::TelemetryPresence;
use super::finding::{NetworkSource, RecordRef};
use super::leases::Lease;
use super::origin::Origin;
use crate::error::{Position, Result};
use crate::event::ConnEvent;
use crate::lineage::{HostIdentity, LineageBuilder, lowered};
use crate::read::{DhcpRecord, Intake, ParallelRead, ParallelReader, Reader};
use crate::series::{Interner, Span};
use crate::time::Timestamp;
use crate::winevent::{Decoded, EvidenceKind, Name, Prepared, TimeSource, WinRecord};
use hashbrown::HashMap;

/// A file given to the builder (see [`An1113Builder::file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId(pub(crate) u32);

/// The references of a series of `n` events (the `k`-th at `origin(k)`): its first five and
/// last five records, so an analyst can open the logs where it starts and ends.
pub(crate) fn references(files: &[String], n: usize, origin: impl Fn(usize) -> Origin) -> Vec<RecordRef> {
    (0..n.min(5))
        .chain(n.saturating_sub(5).max(5)..n)
        .map(|k| {
            let o = origin(k);
            RecordRef {
                file: files.get(o.file as usize).cloned().unwrap_or_default(),
                record_id: o.record_id,
                line: o.line,
            }
        })
        .collect()
}

/// A network event naming its process.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NetEvent {
    pub(crate) host: u32,
    /// Sysmon `UtcTime`, or `TimeCreated` for 5156.
    pub(crate) ts: Timestamp,
    /// For Sysmon: `TimeCreated`, used when this record's `UtcTime` disagrees with its host's.
    pub(crate) time_created: Option<Timestamp>,
    /// For 5156: the field its time came from (the event's own, as lineage times events),
    /// corrected per host and field like lineage's times.
    pub(crate) time_source: Option<TimeSource>,
    pub(crate) source: NetworkSource,
    pub(crate) guid: Option<u32>,
    pub(crate) pid: Option<u32>,
    pub(crate) image: Option<u32>,
    pub(crate) src: u32,
    pub(crate) dst: u32,
    pub(crate) port: Option<u16>,
    pub(crate) src_port: Option<u16>,
    pub(crate) name: Option<u32>,
    pub(crate) origin: Origin,
}

/// A DNS answer seen by a process (Sysmon 22).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DnsAnswer {
    pub(crate) host: u32,
    pub(crate) guid: Option<u32>,
    pub(crate) pid: Option<u32>,
    pub(crate) addr: u32,
    pub(crate) name: u32,
}

/// A process termination (Sysmon 5, Security 4689): it ends a process instance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcessExit {
    pub(crate) host: u32,
    pub(crate) ts: Timestamp,
    pub(crate) pid: Option<u32>,
    /// The lower-cased GUID (Sysmon), interned.
    pub(crate) guid: Option<u32>,
    /// The field its time came from (corrected per host and field like lineage's times).
    pub(crate) time_source: TimeSource,
}

/// A connection with no process identity (Zeek `conn.log`, CSV).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostFlow {
    pub(crate) src: u32,
    pub(crate) dst: u32,
    pub(crate) port: Option<u16>,
    pub(crate) ts: Timestamp,
    pub(crate) origin: Origin,
}

/// What is known about one Windows host while collecting.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostAcc {
    pub(crate) name: String,
    pub(crate) telemetry: TelemetryPresence,
    /// Sysmon `UtcTime - TimeCreated`, µs.
    pub(crate) skews: Vec<i64>,
    pub(crate) first: Option<Timestamp>,
    pub(crate) last: Option<Timestamp>,
}

impl HostAcc {
    /// Adds what `o` saw (of the same host, or of records after these).
    fn add(&mut self, o: HostAcc) {
        self.telemetry.add(&o.telemetry);
        self.skews.extend(o.skews);
        self.first = match (self.first, o.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = self.last.max(o.last);
    }
}

/// The hosts of `hosts` that are one machine ([`HostIdentity`]: case variants, a bare name
/// and its only FQDN) merged, named as lineage names them; `net`, `dns` and `exits` renumbered.
pub(crate) fn merge_hosts(
    hosts: Vec<HostAcc>,
    net: &mut [NetEvent],
    dns: &mut [DnsAnswer],
    exits: &mut [ProcessExit],
) -> Vec<HostAcc> {
    let id = HostIdentity::resolve(hosts.iter().map(|h| h.name.as_str()));
    if id.names().len() == hosts.len() {
        return hosts;
    }
    let of = |h: u32| id.of(h as usize) as u32;
    net.iter_mut().for_each(|e| e.host = of(e.host));
    dns.iter_mut().for_each(|d| d.host = of(d.host));
    exits.iter_mut().for_each(|x| x.host = of(x.host));
    let mut merged: Vec<HostAcc> = id
        .names()
        .iter()
        .map(|n| HostAcc {
            name: n.clone(),
            ..HostAcc::default()
        })
        .collect();
    for (i, h) in hosts.into_iter().enumerate() {
        merged[id.of(i)].add(h);
    }
    merged
}

/// Collects everything the AN1113 join needs, file after file, then [`An1113Builder::build`]s
/// the findings and the coverage report.
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::an1113::An1113Builder;
/// let mut b = An1113Builder::new();
/// let file = b.file("events.json");
/// let mut rec = WinRecord::new();
/// for i in 0..12 {
///     rec.parse_str(&format!(r#"{{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1",
///       "UtcTime":"2024-01-01 10:{:02}:{:02}.000","ProcessGuid":"{{p1}}","ProcessId":"42",
///       "Image":"C:\\Tools\\agent.exe","SourceIp":"10.0.0.5","DestinationIp":"203.0.113.9",
///       "DestinationPort":"443"}}"#, i * 5 / 60, i * 5 % 60))?;
///     b.push_record(&rec, file);
/// }
/// let report = b.build();
/// assert_eq!(report.findings.len(), 1);
/// assert_eq!(report.findings[0].destination.addr, "203.0.113.9");
/// assert!((report.findings[0].report.period.unwrap().as_secs_f64() - 5.0).abs() < 0.5);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct An1113Builder {
    pub(crate) config: An1113Config,
    pub(crate) lineage: LineageBuilder,
    pub(crate) strings: Interner<Span>,
    pub(crate) files: Vec<String>,
    pub(crate) hosts: Vec<HostAcc>,
    pub(crate) host_ix: HashMap<String, u32>,
    pub(crate) net: Vec<NetEvent>,
    pub(crate) dns: Vec<DnsAnswer>,
    pub(crate) flows: Vec<HostFlow>,
    pub(crate) exits: Vec<ProcessExit>,
    /// Address → host names given by the caller (inventories), valid at all times.
    pub(crate) known_hosts: Vec<(u32, u32)>,
    /// DHCP leases (`push_dhcp`), and the releases that end them (address, time).
    pub(crate) leases: Vec<Lease>,
    pub(crate) releases: Vec<(u32, Timestamp)>,
    /// DHCP records given to `push_dhcp`.
    pub(crate) dhcp_records: u64,
    /// Image → its lower-cased file name, interned (the instance key of a process not in the
    /// data).
    pub(crate) image_names: HashMap<u32, Option<u32>>,
    /// The host of the previous record and the name it was logged by (records come in runs
    /// from one host; the host may be named by its FQDN where the record says `WS6`).
    pub(crate) last_host: Option<(u32, String)>,
    /// Reused for lower-casing a host name or a GUID before a lookup.
    pub(crate) lower: String,
}

impl Default for An1113Builder {
    fn default() -> Self {
        Self::with_config(An1113Config::default())
    }
}

/// [`An1113Builder::push_parallel`]'s intake: the reader's file `i` is file `first + i`.
struct An1113Intake {
    builder: An1113Builder,
    first: u32,
}

impl Intake for An1113Intake {
    fn part(&self) -> Self {
        An1113Intake {
            // A part only collects: no allowlist to parse (the caller's builder builds).
            builder: An1113Builder::with_config(An1113Config::without_rules()),
            first: self.first,
        }
    }

    fn push(&mut self, file: usize, p: &Prepared<'_>, position: Position) {
        let file = FileId(self.first.saturating_add(u32::try_from(file).unwrap_or(u32::MAX)));
        self.builder.push_prepared(p, file, position);
    }

    fn absorb(&mut self, part: Self, shift: u64) -> bool {
        self.builder.absorb(part.builder, shift)
    }
}

impl An1113Builder {
    /// A builder with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with this configuration.
    pub fn with_config(config: An1113Config) -> Self {
        An1113Builder {
            lineage: LineageBuilder::with_config(config.lineage),
            config,
            strings: Interner::default(),
            files: Vec::new(),
            hosts: Vec::new(),
            host_ix: HashMap::new(),
            net: Vec::new(),
            dns: Vec::new(),
            flows: Vec::new(),
            exits: Vec::new(),
            known_hosts: Vec::new(),
            leases: Vec::new(),
            releases: Vec::new(),
            dhcp_records: 0,
            image_names: HashMap::new(),
            last_host: None,
            lower: String::new(),
        }
    }

    /// Names a file the next records come from (for the references of findings).
    pub fn file(&mut self, name: &str) -> FileId {
        self.files.push(name.to_owned());
        FileId(self.files.len() as u32 - 1)
    }

    /// Says that `addr` is host `name` at all times (an inventory, a static address), for
    /// joining host-level connections to Windows hosts. It wins over DHCP leases and Sysmon
    /// source addresses.
    pub fn known_host(&mut self, addr: &str, name: &str) {
        if let (Some(a), Some(n)) = (self.intern(addr), self.intern(name)) {
            self.known_hosts.push((a, n));
        }
    }

    /// Takes one Zeek `dhcp.log` record of `file` ([`DhcpLogReader`](crate::read::DhcpLogReader)):
    /// an acknowledged lease says which host (its FQDN or host name) had the address from the
    /// record's time for its lease time, or until the address's next lease; a `RELEASE` ends
    /// the client's lease. Host-level connections are tied to the host whose lease covers
    /// their time.
    ///
    /// # Example
    /// ```
    /// use beaconstat::an1113::An1113Builder;
    /// use beaconstat::read::DhcpLogReader;
    /// let dhcp = r#"{"ts":1700000000.0,"mac":"00:50:56:00:00:07","host_name":"WS07","assigned_addr":"10.0.0.7","lease_time":86400.0,"msg_types":["REQUEST","ACK"]}"#;
    /// let mut b = An1113Builder::new();
    /// let file = b.file("dhcp.log");
    /// DhcpLogReader::from_reader(dhcp.as_bytes())?.for_each(|d| b.push_dhcp(&d, file))?;
    /// let conn = b.file("conn.log");
    /// for i in 0..24 {
    ///     let ev = beaconstat::ConnEvent::new(beaconstat::Timestamp::from_secs(1_700_000_100 + i * 300), "10.0.0.7", "203.0.113.9")
    ///         .with_dst_port(443);
    ///     b.push_conn(&ev, conn, Some(i as u64 + 1));
    /// }
    /// let r = b.build();
    /// assert_eq!(r.findings[0].host, "WS07");
    /// assert!(r.findings[0].address_mapping.as_deref().unwrap().contains("DHCP lease"));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn push_dhcp(&mut self, rec: &DhcpRecord<'_>, file: FileId) {
        self.dhcp_records += 1;
        let origin = Origin {
            file: file.0,
            record_id: None,
            line: Some(rec.line),
        };
        if let Some(addr) = rec.leased_addr().and_then(|a| self.intern(a)) {
            let lease = Lease {
                addr,
                name: rec.name().and_then(|n| self.strings.intern(n)),
                mac: rec.mac.and_then(|m| self.strings.intern(m)),
                start: rec.ts,
                length: rec.lease_time.filter(|d| d.as_micros() > 0),
                origin,
            };
            self.leases.push(lease);
        } else if rec.is_release()
            && let Some(addr) = rec.client_addr.and_then(|a| self.intern(a))
        {
            self.releases.push((addr, rec.ts));
        }
    }

    fn intern(&mut self, s: &str) -> Option<u32> {
        self.strings.intern(s)
    }

    /// `s` lower-cased, interned (through a reused buffer: no allocation per event).
    fn intern_lower(&mut self, s: &str) -> Option<u32> {
        self.strings.intern(lowered(&mut self.lower, s))
    }

    fn host(&mut self, name: &str) -> u32 {
        // The previous record's host first, without a lower-cased copy of the name.
        if let Some((i, last)) = &self.last_host
            && (last == name || last.eq_ignore_ascii_case(name))
        {
            return *i;
        }
        // Records of a few hosts interleave: a name as first logged, byte for byte (the same
        // text is the same lower-cased key), before a lower-cased copy is hashed.
        let i = match self.hosts.iter().take(8).position(|h| h.name == name) {
            Some(i) => i as u32,
            None => self.lookup_host(name),
        };
        let last = self.last_host.get_or_insert_with(|| (i, String::new()));
        last.0 = i;
        last.1.clear();
        last.1.push_str(name);
        i
    }

    fn lookup_host(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.host_ix.get(lowered(&mut self.lower, name)) {
            return i;
        }
        let key = self.lower.clone();
        // A short name and its FQDN (`WS6`, `WS6.corp.example`: some channels log one, some
        // the other) are merged once everything is read (`merge_hosts`), as in lineage.
        let i = self.hosts.len() as u32;
        self.hosts.push(HostAcc {
            name: name.to_owned(),
            ..HostAcc::default()
        });
        self.host_ix.insert(key, i);
        i
    }

    /// Takes one Windows record of `file`: lineage gets it, network events (Sysmon 3, Security
    /// 5156) and DNS answers (Sysmon 22) are kept for the join, and every record counts
    /// towards its host's coverage.
    pub fn push_record(&mut self, rec: &WinRecord, file: FileId) {
        self.push_prepared(&Prepared::new(rec), file, rec.position());
    }

    /// [`push_record`](An1113Builder::push_record) of a record decoded already, found at
    /// `position` of its file (a chunk's record counts its lines from the chunk's start).
    pub(crate) fn push_prepared(&mut self, p: &Prepared<'_>, file: FileId, position: Position) {
        // One decoding of the record for lineage and the join: its times and record id
        // parsed once, its event (a Sysmon 3 connection, a task event, ...) decoded once.
        let (v, decoded, rec) = (&p.view, p.decoded, p.rec());
        self.lineage.push_prepared(p, position);
        let Some(h) = p.computer else { return };
        let host = self.host(h);
        let origin = Origin {
            file: file.0,
            record_id: v.record_id(),
            line: Some(position.line).filter(|&l| l > 0),
        };
        // `timestamp()` and `clock_skew()` are made of these two.
        let (utc, time_created) = (v.utc_time(), v.time_created());
        let ts = utc.or(time_created);
        let acc = &mut self.hosts[host as usize];
        if let Some(t) = ts {
            acc.first = Some(acc.first.map_or(t, |f| f.min(t)));
            acc.last = Some(acc.last.map_or(t, |l| l.max(t)));
        }
        if rec.is_sysmon()
            && let (Some(u), Some(t)) = (utc, time_created)
        {
            acc.skews.push((u - t).as_micros());
        }
        let id = rec.event_id();
        count(&mut acc.telemetry, rec, id, &decoded);
        // Only Sysmon 3, Security 5156 and Sysmon 22 carry network identity.
        let conn = match decoded {
            Decoded::SysmonConn(c) => Some((c, NetworkSource::Sysmon3)),
            Decoded::WfpConn(c) => Some((c, NetworkSource::Security5156)),
            _ => None,
        };
        if let Some((mut c, source)) = conn {
            let (time_created, time_source) = match source {
                NetworkSource::Sysmon3 => (time_created, None),
                // 5156 by the event's own time (NXLog's `EventTime` before a collector's
                // `@timestamp`), which the host's correction for that field then fixes.
                _ => match v.event_time() {
                    Some(t) => {
                        c.ts = t.ts;
                        (None, Some(t.source))
                    }
                    None => (None, None),
                },
            };
            self.push_process_conn(host, &c, source, (time_created, time_source), origin);
        } else if let Decoded::Exit(x) = decoded {
            let guid = x.guid.and_then(|g| self.intern_lower(g));
            self.exits.push(ProcessExit {
                host,
                ts: x.ts,
                pid: x.pid,
                guid,
                time_source: x.time_source,
            });
        } else if let Decoded::Dns(q) = decoded {
            let (Some(name), guid) = (self.intern(q.query_name), q.process.guid.and_then(|g| self.intern(g))) else {
                return;
            };
            for a in q.addresses() {
                if let Some(addr) = self.intern(a) {
                    self.dns.push(DnsAnswer {
                        host,
                        guid,
                        pid: q.process.pid,
                        addr,
                        name,
                    });
                }
            }
        }
    }

    /// Takes every Windows record of `reader` (a Windows event log: JSON lines or `.evtx`),
    /// as [`push_record`](An1113Builder::push_record) of each in order would, with the reading
    /// and parsing on a second thread: records are parsed there into reused batches while this
    /// thread takes the batches before. The result is the same as one thread's. Parsing is
    /// about half of the work, and with a core free for the second thread the two halves
    /// overlap; without one it is slower (the copies and the hand-over are about 5% more
    /// instructions).
    ///
    /// # Errors
    /// As [`Reader::for_each_record`]: the records before the error are taken.
    ///
    /// # Example
    /// ```
    /// use beaconstat::ReadOptions;
    /// use beaconstat::an1113::An1113Builder;
    /// let mut log = String::new();
    /// for i in 0..12 {
    ///     log.push_str(&format!(r#"{{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-01 10:{:02}:{:02}.000","ProcessGuid":"{{p1}}","ProcessId":"42","Image":"C:\\Tools\\agent.exe","SourceIp":"10.0.0.5","DestinationIp":"203.0.113.9","DestinationPort":"443"}}"#, i * 5 / 60, i * 5 % 60));
    ///     log.push('\n');
    /// }
    /// let mut reader = ReadOptions::new().from_reader(std::io::Cursor::new(log.into_bytes()))?;
    /// let mut b = An1113Builder::new();
    /// let file = b.file("events.json");
    /// b.push_records_from(&mut reader, file)?;
    /// let report = b.build();
    /// assert_eq!(report.findings.len(), 1);
    /// assert_eq!(report.findings[0].destination.addr, "203.0.113.9");
    /// assert_eq!(report.findings[0].references[0].line, Some(1));
    /// # Ok::<(), beaconstat::Error>(())
    /// ```
    pub fn push_records_from(&mut self, reader: &mut Reader, file: FileId) -> Result<()> {
        // Records per batch (a record is about 2 KiB: its line, its fields and the known-name
        // table), and up to 16 batches queued: enough to ride out a busy machine's scheduling
        // delays (64 records with 2 queued, small enough for a core's L2 cache, ran slower
        // there).
        const BATCH: usize = 256;
        // Full batches (their records, how many are filled) one way, emptied ones back.
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(Vec<WinRecord>, usize)>(16);
        let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<WinRecord>>();
        std::thread::scope(|scope| {
            let parser = scope.spawn(move || {
                let mut batch: (Vec<WinRecord>, usize) = (Vec::new(), 0);
                let read = reader.for_each_record(|rec| {
                    let (recs, n) = &mut batch;
                    match recs.get_mut(*n) {
                        Some(r) => r.copy_from(rec),
                        None => recs.push(rec.clone()),
                    }
                    *n += 1;
                    if *n == BATCH {
                        let next = (empty_rx.try_recv().unwrap_or_default(), 0);
                        // Fails only when this thread's taker is gone (it panicked).
                        let _ = full_tx.send(core::mem::replace(&mut batch, next));
                    }
                });
                if batch.1 > 0 {
                    let _ = full_tx.send(batch);
                }
                read
            });
            for (recs, n) in full_rx {
                for rec in recs.iter().take(n) {
                    self.push_record(rec, file);
                }
                // Fails only when the parser is done: the batch is then freed.
                let _ = empty_tx.send(recs);
            }
            parser.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Names each of `reader`'s files (as [`file`](An1113Builder::file) would, by its path)
    /// and takes every Windows record in them, as [`push_record`](An1113Builder::push_record)
    /// of each in input order would, with the records parsed, decoded and collected on the
    /// reader's worker threads (and on this one when it would otherwise wait): a large
    /// Windows event JSON file is cut into chunks, each collected apart (its strings interned
    /// and its hosts numbered on its own) and then added here in input order (a chunk holding
    /// a record lineage took before it, a duplicate, is read again here). The report is the
    /// one records pushed one by one give.
    ///
    /// # Errors
    /// As [`ParallelReader::for_each_record`]: in strict mode the first bad record or failing
    /// file, after every record before it.
    ///
    /// # Example
    /// ```
    /// # fn main() -> beaconstat::Result<()> {
    /// use beaconstat::ReadOptions;
    /// use beaconstat::an1113::An1113Builder;
    /// let dir = std::env::temp_dir().join(format!("beaconstat-push-parallel-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).map_err(|e| beaconstat::Error::io(None, e))?;
    /// let path = dir.join("sysmon.json");
    /// let mut log = String::new();
    /// for i in 0..12 {
    ///     log.push_str(&format!(r#"{{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-01 10:{:02}:{:02}.000","ProcessGuid":"{{p1}}","ProcessId":"42","Image":"C:\\Tools\\agent.exe","SourceIp":"10.0.0.5","DestinationIp":"203.0.113.9","DestinationPort":"443"}}"#, i * 5 / 60, i * 5 % 60));
    ///     log.push('\n');
    /// }
    /// std::fs::write(&path, &log).map_err(|e| beaconstat::Error::io(None, e))?;
    /// let mut reader = ReadOptions::new().open_parallel([&path], 1);
    /// reader.min_part_bytes(1024); // cut even this small file
    /// let mut b = An1113Builder::new();
    /// let read = b.push_parallel(&reader)?;
    /// assert_eq!(read.stats().records, 12);
    /// let report = b.build();
    /// assert_eq!(report.findings.len(), 1);
    /// assert_eq!(report.findings[0].references[0].line, Some(1));
    /// assert_eq!(report.findings[0].references.last().and_then(|r| r.line), Some(12));
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(()) }
    /// ```
    pub fn push_parallel(&mut self, reader: &ParallelReader) -> Result<ParallelRead<()>> {
        let first = self.files.len() as u32;
        for p in &reader.files {
            self.file(&p.display().to_string());
        }
        let mut intake = An1113Intake {
            builder: core::mem::take(self),
            first,
        };
        let read = reader.for_each_intake(&mut intake);
        *self = intake.builder;
        read
    }

    /// Takes `part`, the records after these collected apart (their lines numbered `shift`
    /// short), as if pushed here; false when it cannot (lineage took one of them already).
    fn absorb(&mut self, part: An1113Builder, shift: u64) -> bool {
        // Strings first: interned in the part's order, as pushing its records interns them,
        // so that a refused part leaves nothing its records' pushing would not add.
        let Some(string_of) = self.strings.absorb(&part.strings) else {
            return false;
        };
        if !self.lineage.absorb(part.lineage, shift) {
            return false;
        }
        let s = |id: u32| string_of.get(id as usize).copied().unwrap_or(id);
        let host_of: Vec<u32> = part.hosts.iter().map(|h| self.host(&h.name)).collect();
        let host = |h: u32| host_of.get(h as usize).copied().unwrap_or(h);
        for (h, from) in part.hosts.into_iter().enumerate() {
            if let Some(to) = self.hosts.get_mut(host(h as u32) as usize) {
                to.add(from);
            }
        }
        self.net.extend(part.net.into_iter().map(|mut e| {
            e.host = host(e.host);
            (e.src, e.dst) = (s(e.src), s(e.dst));
            e.guid = e.guid.map(s);
            e.image = e.image.map(s);
            e.name = e.name.map(s);
            e.origin.line = e.origin.line.map(|l| l + shift);
            e
        }));
        self.exits.extend(part.exits.into_iter().map(|mut x| {
            x.host = host(x.host);
            x.guid = x.guid.map(s);
            x
        }));
        self.dns.extend(part.dns.into_iter().map(|mut d| {
            d.host = host(d.host);
            (d.addr, d.name) = (s(d.addr), s(d.name));
            d.guid = d.guid.map(s);
            d
        }));
        for (image, name) in part.image_names {
            self.image_names.entry(s(image)).or_insert(name.map(s));
        }
        true
    }

    fn push_process_conn(
        &mut self,
        host: u32,
        c: &ConnEvent<'_>,
        source: NetworkSource,
        (time_created, time_source): (Option<Timestamp>, Option<TimeSource>),
        origin: Origin,
    ) {
        let p = c.process.unwrap_or_default();
        if p.guid.is_none() && p.pid.is_none() && p.image.is_none() {
            self.hosts[host as usize].telemetry.network_without_process += 1;
            return;
        }
        let (Some(src), Some(dst)) = (self.intern(c.src), self.intern(c.dst)) else {
            return;
        };
        let ev = NetEvent {
            host,
            ts: c.ts,
            time_created,
            time_source,
            source,
            guid: p.guid.and_then(|g| self.intern_lower(g)),
            pid: p.pid,
            image: p.image.and_then(|i| {
                let id = self.strings.intern(i)?;
                // The lower-cased file name too (once per image).
                if !self.image_names.contains_key(&id) {
                    let name = self.intern_lower(i.rsplit(['\\', '/']).next().unwrap_or(i));
                    self.image_names.insert(id, name);
                }
                Some(id)
            }),
            src,
            dst,
            port: c.dst_port,
            src_port: c.src_port,
            name: c.name.and_then(|n| self.strings.intern(n)),
            origin,
        };
        self.net.push(ev);
    }

    /// Takes one connection of `file` at `line`: with a host and a process it joins like a
    /// Sysmon 3 event; without, it is host-level (Zeek `conn.log`) and joins by host address
    /// and time only.
    pub fn push_conn(&mut self, c: &ConnEvent<'_>, file: FileId, line: Option<u64>) {
        let origin = Origin {
            file: file.0,
            record_id: None,
            line,
        };
        if let (Some(h), Some(_)) = (c.host, c.process) {
            let host = self.host(h);
            self.hosts[host as usize].telemetry.sysmon3 += 1;
            self.push_process_conn(host, c, NetworkSource::Sysmon3, (None, None), origin);
            return;
        }
        let (Some(src), Some(dst)) = (self.intern(c.src), self.intern(c.dst)) else {
            return;
        };
        self.flows.push(HostFlow {
            src,
            dst,
            port: c.dst_port,
            ts: c.ts,
            origin,
        });
    }
}

/// Counts `rec` (event id `id`, decoded as `decoded`) in its host's telemetry.
fn count(t: &mut TelemetryPresence, rec: &WinRecord, id: Option<u32>, decoded: &Decoded<'_>) {
    let Some(id) = id else { return };
    match id {
        4698 | 4702 | 4688 | 5156 if !rec.is_security() => {}
        106 | 140 | 100 | 102 | 107 | 108 | 110 | 129 | 200 | 201 if !rec.is_task_scheduler() => {}
        1 | 3 | 11..=13 | 22 if !rec.is_sysmon() => {}
        4698 | 106 => t.task_created += 1,
        4702 | 140 => t.task_updated += 1,
        100 | 102 | 107 | 108 | 110 | 129 | 200 | 201 => t.task_runs += 1,
        1 | 4688 => {
            if id == 1 {
                t.sysmon1 += 1;
            } else {
                t.security4688 += 1;
            }
            if rec.field_opt(Name::CommandLine).is_some() {
                t.with_command_line += 1;
            }
        }
        3 => t.sysmon3 += 1,
        5156 if matches!(decoded, Decoded::WfpConn(_)) => t.security5156 += 1,
        22 => t.dns_with_process += 1,
        11..=13 => match decoded {
            Decoded::Evidence(e) if e.kind == EvidenceKind::TaskFile => t.task_files += 1,
            Decoded::Evidence(e) if matches!(e.kind, EvidenceKind::TaskCacheKey | EvidenceKind::TaskCacheValue) => {
                t.taskcache_registry += 1
            }
            _ => {}
        },
        _ => {}
    }
}

// The generated scenario needs the `synth` feature (on by default).
#[cfg(all(test, feature = "synth"))]
mod tests {
    use super::*;
    use crate::read::ReadOptions;

    /// Records taken on two threads give the report records taken one by one give, over
    /// many batches.
    #[test]
    fn records_from_a_reader_join_as_pushed_one_by_one() -> crate::error::Result<()> {
        let s = crate::synth::an1113_scenario(3, 12.0);
        assert!(s.lines.len() > 3 * 256, "{} records: a few batches", s.lines.len());
        let text = s.lines.join("\n").into_bytes();
        let reader = || ReadOptions::new().from_reader(std::io::Cursor::new(text.clone()));
        let mut one = An1113Builder::new();
        let file = one.file("scenario.json");
        reader()?.for_each_record(|rec| one.push_record(rec, file))?;
        let mut two = An1113Builder::new();
        let file = two.file("scenario.json");
        two.push_records_from(&mut reader()?, file)?;
        let (one, two) = (one.build(), two.build());
        assert!(!one.findings.is_empty());
        assert!(one.findings[0].references.iter().all(|r| r.line.is_some()));
        assert_eq!(one.findings, two.findings);
        assert_eq!(one.coverage, two.coverage);
        assert_eq!(one.lineage, two.lineage);
        Ok(())
    }

    /// Records parsed and decoded on other threads, from a file cut into chunks anywhere
    /// (duplicates of earlier records among them), give the report records pushed one by
    /// one in order give: the same findings with the same line references, coverage and
    /// lineage, at any number of workers.
    #[test]
    fn records_read_in_parallel_join_as_pushed_one_by_one() -> crate::error::Result<()> {
        let s = crate::synth::an1113_scenario(5, 12.0);
        let mut text = s.lines.join("\n");
        // Overlapping exports: the first records again, which lineage counts as duplicates.
        text.push('\n');
        text.push_str(&s.lines[..200].join("\n"));
        text.push('\n');
        let dir = std::env::temp_dir().join(format!("beaconstat-an1113-parallel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(None, e))?;
        let path = dir.join("scenario.json");
        std::fs::write(&path, &text).map_err(|e| crate::Error::io(None, e))?;
        let mut one = An1113Builder::new();
        let file = one.file(&path.display().to_string());
        ReadOptions::new()
            .open(&path)?
            .for_each_record(|rec| one.push_record(rec, file))?;
        let one = one.build();
        assert!(
            one.lineage.coverage.duplicates >= 200,
            "{}",
            one.lineage.coverage.duplicates
        );
        assert!(one.findings[0].references.iter().all(|r| r.line.is_some()));
        for workers in [1, 2, 3] {
            for part in [3_000, 40_000, 1 << 30] {
                let mut reader = ReadOptions::new().open_parallel([&path], workers);
                reader.min_part_bytes(part);
                let mut two = An1113Builder::new();
                let read = two.push_parallel(&reader)?;
                assert_eq!(read.stats().records, s.lines.len() as u64 + 200);
                let two = two.build();
                assert_eq!(one.findings, two.findings, "{workers} workers, parts of {part} bytes");
                assert_eq!(one.coverage, two.coverage, "{workers} workers, parts of {part} bytes");
                assert_eq!(one.lineage, two.lineage, "{workers} workers, parts of {part} bytes");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }
}
