//! [`LineageBuilder`]: takes Windows records (or decoded events) one at a time, copies what
//! lineage needs, and builds a [`Lineage`].

use super::baseline::TaskBaseline;
use super::cmdline::normalize_task_name_into;
use super::collected::{ClockSamples, Collected, RawConn, RawEvidence, RawTask, RecordOrigin};
use super::config::LineageConfig;
use super::model::Lineage;
use super::process::{ImageSigner, ProcessNode};
use super::stages;
use super::taskxml::TaskDefinition;
use crate::error::{Position, Result};
use crate::event::ConnEvent;
use crate::read::{Intake, ParallelRead, ParallelReader};
use crate::winevent::{
    Decoded, EvidenceEvent, EvidenceKind, Prepared, ProcessEvent, ProcessSource, RecordView, TaskEvent, WinRecord,
};

/// Collects Windows records and reconstructs scheduled-task lineage.
///
/// Feed it every record of every file ([`LineageBuilder::push_record`], naming each file
/// with [`LineageBuilder::input`]), then [`LineageBuilder::build`]. Task definitions that
/// cannot be parsed are listed in [`Lineage::skipped_definitions`](super::Lineage::skipped_definitions). Records are copied (owned) as they are pushed, so the caller's
/// [`WinRecord`] can be reused.
///
/// # How the pieces are joined
///
/// * **Clocks.** Every event is timed by its own clock ([`WinRecord::event_time`]: Sysmon
///   `UtcTime`, the logged `TimeCreated`, NXLog's zone-less `EventTime`), a collector's
///   `@timestamp` only when there is nothing else. Per host and logged field, the median of
///   Sysmon `UtcTime` minus the logged time (without Sysmon: a collector's time minus it) is
///   measured; beyond [`LineageConfig::clock_tolerance`] it is rounded to 15 minutes and
///   added to that field's times (exports that write local time, labelled UTC or not).
///   Records whose own skew is far from the median (Sysmon 3 on some builds) are counted, not
///   corrected; a collector lagging more than [`LineageConfig::collector_tolerance`] is
///   reported ([`ClockReport`](super::ClockReport)).
/// * **Processes.** Sysmon 1 and 4688 of the same process (host, image, ±2 s, and PID and
///   parent PID where both name them) are one process, with what each lacks from the other
///   (some exports drop Sysmon's `ProcessId`: the 4688's `NewProcessId` gives it).
///   Parents: by `ParentProcessGuid`; where there is no GUID, the latest process with the parent
///   PID started before the child. Unresolved parents are listed, never guessed.
/// * **Tasks** are keyed by host and name (case-insensitive). Life events come from
///   4698–4702, 106/140/141/142, `schtasks`/`at` command lines (`/S` targets another host),
///   Sysmon 11 files and TaskCache values (`Id`/`Index` name a task; SD deletion or `Index` 0
///   hide it). The definition is the latest task XML, else the command line's.
/// * **Creation method**, first match wins: a `schtasks`/`at` process within
///   [`LineageConfig::creator_window`] before the registration; the 4698 `ClientProcessId`
///   (schtasks / PowerShell / other = COM); remote evidence (client PID 0 with locality 0,
///   4624 type 3 on the `SubjectLogonId`, 5145 `atsvc`); PowerShell 4104; a `taskschd.dll`
///   load; TaskCache writes only. Remote evidence also sets `remote` and the source address.
/// * **Runs.** TaskScheduler events are grouped by instance id (129 by engine PID or time);
///   the launched process is the engine PID's process within [`LineageConfig::run_window`].
///   Processes whose parent is `svchost -s Schedule` or `taskeng.exe`, or whose parent is
///   unknown, become runs of the task whose declared action they match right after a
///   registration, or of the task last asked to run (`schtasks /run`); launched by the Schedule
///   service but matching nothing, they are reported in [`HostLineage::unattributed_runs`](super::HostLineage::unattributed_runs).
///   Each run carries the sentence that justified the join.
///
/// # Example
/// ```
/// use beaconstat::winevent::WinRecord;
/// use beaconstat::lineage::{CreationMethod, LineageBuilder};
/// let lines = [
///   r#"{"EventID":4698,"Channel":"Security","Hostname":"H","TimeCreated":"2021-06-10T21:21:26.38Z","SubjectUserName":"admmig","SubjectDomainName":"OFFSEC","TaskName":"\\bou","TaskContent":"<Task><Settings><Hidden>true</Hidden></Settings><Actions><Exec><Command>cmd.exe</Command></Exec></Actions></Task>","ClientProcessId":"0","RpcCallClientLocality":"0"}"#,
///   r#"{"EventID":4699,"Channel":"Security","Hostname":"H","TimeCreated":"2021-06-10T21:21:26.41Z","TaskName":"\\bou"}"#,
/// ];
/// let mut b = LineageBuilder::new();
/// let mut rec = WinRecord::new();
/// for l in lines { rec.parse_str(l)?; b.push_record(&rec); }
/// let lin = b.build();
/// let t = lin.task("H", r"\bou").unwrap();
/// assert_eq!(t.creation.method, CreationMethod::Remote);
/// assert!(t.hidden && t.short_lived);
/// # Ok::<(), beaconstat::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LineageBuilder {
    config: LineageConfig,
    baseline: Option<TaskBaseline>,
    input: Collected,
    /// Where the records pushed now come from (named in skips).
    origin: RecordOrigin,
}

fn own(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

impl LineageBuilder {
    /// A builder with default windows.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with these windows.
    pub fn with_config(config: LineageConfig) -> Self {
        LineageBuilder {
            config,
            ..Self::default()
        }
    }

    /// Scores rarity against a saved baseline instead of only the data pushed here.
    pub fn baseline(&mut self, b: TaskBaseline) -> &mut Self {
        self.baseline = Some(b);
        self
    }

    /// Names the input the next records come from (a file name), so that a task definition
    /// that cannot be used is reported with the input, line and record it was in
    /// ([`Lineage::skipped_definitions`](super::Lineage::skipped_definitions)).
    pub fn input(&mut self, name: impl Into<String>) -> &mut Self {
        self.input.inputs.push(name.into());
        self.origin.input = Some(self.input.inputs.len() as u32 - 1);
        self
    }

    /// Takes whatever a record holds: a task event, a process creation, a Sysmon 3 connection,
    /// supporting evidence; other records only count towards coverage.
    ///
    /// A record already pushed (same host, channel and record id, e.g. from overlapping
    /// exports) is ignored and counted in [`TelemetryCoverage::duplicates`](super::TelemetryCoverage::duplicates).
    pub fn push_record(&mut self, rec: &WinRecord) {
        let v = RecordView::new(rec);
        if self.admit(&v, rec.computer(), rec.channel(), rec.position()) {
            self.push_decoded(&Decoded::of(&v));
        }
    }

    /// Names each of `reader`'s files (as [`input`](LineageBuilder::input) would, by its
    /// path) and takes every Windows record in them, as
    /// [`push_record`](LineageBuilder::push_record) of each in input order would, with the
    /// records parsed, decoded and collected on the reader's worker threads (and on this one
    /// when it would otherwise wait): a large Windows event JSON file is cut into chunks, each
    /// collected apart and then added here in input order (a chunk holding a record taken
    /// before it, a duplicate, is read again here). The lineage is the one records pushed one
    /// by one give.
    ///
    /// # Errors
    /// As [`ParallelReader::for_each_record`]: in strict mode the first bad record or failing
    /// file, after every record before it.
    ///
    /// # Example
    /// ```
    /// # fn main() -> beaconstat::Result<()> {
    /// use beaconstat::ReadOptions;
    /// use beaconstat::lineage::LineageBuilder;
    /// let dir = std::env::temp_dir().join(format!("beaconstat-lineage-parallel-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).map_err(|e| beaconstat::Error::io(None, e))?;
    /// let path = dir.join("security.json");
    /// let mut log = String::new();
    /// for i in 0..40 {
    ///     log.push_str(&format!(r#"{{"EventID":4698,"Channel":"Security","Computer":"WS1","EventRecordID":{i},"TimeCreated":"2024-01-01T10:{:02}:00Z","TaskName":"\\Job{}","SubjectUserName":"alice","SubjectDomainName":"CORP"}}"#, i % 60, i % 4));
    ///     log.push('\n');
    /// }
    /// std::fs::write(&path, &log).map_err(|e| beaconstat::Error::io(None, e))?;
    /// let mut reader = ReadOptions::new().open_parallel([&path], 1);
    /// reader.min_part_bytes(1024); // cut even this small file
    /// let mut b = LineageBuilder::new();
    /// let read = b.push_parallel(&reader)?;
    /// assert_eq!(read.stats().records, 40);
    /// let lineage = b.build();
    /// assert_eq!(lineage.hosts[0].tasks.len(), 4);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok(()) }
    /// ```
    pub fn push_parallel(&mut self, reader: &ParallelReader) -> Result<ParallelRead<()>> {
        let base = self.input.inputs.len();
        for p in &reader.files {
            self.input(p.display().to_string());
        }
        let mut intake = LineageIntake {
            builder: core::mem::take(self),
            first: base,
        };
        let read = reader.for_each_intake(&mut intake);
        *self = intake.builder;
        read
    }

    /// Takes `part`, the records after these collected apart (their lines numbered `shift`
    /// short), as if pushed here; false when it cannot (one of them was taken here already).
    pub(crate) fn absorb(&mut self, part: LineageBuilder, shift: u64) -> bool {
        self.input.absorb(part.input, shift)
    }

    /// [`push_record`](LineageBuilder::push_record) of a record decoded already, found at
    /// `position` of its input.
    pub(crate) fn push_prepared(&mut self, p: &Prepared<'_>, position: Position) {
        if self.admit(&p.view, p.computer, p.channel, position) {
            self.push_decoded(&p.decoded);
        }
    }

    /// The part of [`LineageBuilder::push_record`] that needs the record itself (`v`, logged
    /// by `host` in `channel`, at `position`): false for a duplicate (counted); else it is
    /// counted, its clock samples are taken and its place is noted for what
    /// [`LineageBuilder::push_decoded`] then takes from it.
    pub(crate) fn admit(
        &mut self,
        v: &RecordView<'_>,
        host: Option<&str>,
        channel: Option<&str>,
        position: Position,
    ) -> bool {
        let rec = v.rec;
        if let (Some(h), Some(id)) = (host, v.record_id())
            && !self.input.first_sight(h, channel.unwrap_or(""), id)
        {
            self.input.coverage.duplicates += 1;
            return false;
        }
        self.input.coverage.records += 1;
        // Clock samples: Sysmon `UtcTime` and a collector's time, each against the record's
        // logged time (the one task and 4688 events carry).
        if let (Some(h), Some(logged)) = (host, v.logged_time())
            && let Some(slot) = ClockSamples::slot(logged.source)
        {
            let hi = self.input.host(h);
            let samples = &mut self.input.clocks[hi];
            if rec.is_sysmon()
                && let Some(utc) = v.utc_time()
            {
                samples.sysmon[slot].push((utc - logged.ts).as_micros());
            }
            // A collector time equal to the logged time is a copy of it, not a receive time.
            if let Some(c) = v.collector_time().filter(|&c| c != logged.ts) {
                samples.collector[slot].push((c - logged.ts).as_micros());
            }
        }
        self.origin.position = position;
        self.origin.record_id = v.record_id();
        true
    }

    /// Takes what an admitted record holds: a task event, a process creation, a Sysmon 3
    /// connection, supporting evidence (other records only count towards coverage).
    pub(crate) fn push_decoded(&mut self, d: &Decoded<'_>) {
        match d {
            Decoded::Task(t) => self.push_task(t),
            Decoded::Process(p) => self.push_process(p),
            Decoded::SysmonConn(c) => self.push_conn(c),
            Decoded::Evidence(e) => self.push_evidence(e),
            Decoded::WfpConn(_) | Decoded::Dns(_) | Decoded::Exit(_) | Decoded::Other => {}
        }
    }

    /// Adds a task event.
    pub fn push_task(&mut self, t: &TaskEvent<'_>) {
        self.input.coverage.task_events += 1;
        if t.kind.is_run() || (t.event_id >= 100 && t.event_id < 300) {
            self.input.coverage.task_scheduler_events += 1;
        }
        let host = self.input.host(t.host);
        let c = &mut self.input;
        // Interned through the reused key buffer: no allocation per event once a text is known.
        let user = match (t.subject_domain, t.subject_user) {
            (Some(d), Some(u)) => {
                c.key.clear();
                c.key.push_str(d);
                c.key.push('\\');
                c.key.push_str(u);
                c.strings.intern(&c.key)
            }
            (None, Some(u)) => c.strings.intern(u),
            _ => t.user_context.and_then(|u| c.strings.intern(u)),
        };
        let name = t
            .task_name
            .and_then(|n| c.strings.intern(normalize_task_name_into(&mut c.key, n)));
        let mut intern = |s: Option<&str>| s.and_then(|s| c.strings.intern(s));
        let (instance_id, path, action_name, result_code) = (
            intern(t.instance_id),
            intern(t.path),
            intern(t.action_name),
            intern(t.result_code),
        );
        let mut origin = self.origin.clone();
        origin.record_id = t.record_id.or(origin.record_id);
        self.input.tasks.push(RawTask {
            host,
            ts: t.ts,
            time_source: t.time_source,
            origin,
            kind: t.kind,
            event_id: t.event_id,
            name,
            def: t.xml.map(|x| Box::new(TaskDefinition::parse(x))),
            user,
            logon_id: t.subject_logon_id,
            client_pid: t.client_pid,
            rpc_locality: t.rpc_locality,
            instance_id,
            engine_pid: t.engine_pid,
            path,
            action_name,
            result_code,
        });
    }

    /// Adds a process creation.
    pub fn push_process(&mut self, p: &ProcessEvent<'_>) {
        match p.source {
            ProcessSource::Sysmon1 => self.input.coverage.sysmon1 += 1,
            ProcessSource::Security4688 => self.input.coverage.security4688 += 1,
        }
        if p.command_line.is_some() {
            self.input.coverage.with_command_line += 1;
        }
        let host = self.input.host(p.host);
        let user = match (p.domain, p.user) {
            (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
            (_, u) => own(u),
        };
        self.input.procs.push((
            host,
            p.time_source,
            ProcessNode {
                ts: p.ts,
                source: p.source,
                pid: p.pid,
                guid: own(p.guid),
                image: own(p.image),
                command_line: own(p.command_line),
                user,
                parent_pid: p.parent_pid,
                parent_guid: own(p.parent_guid),
                parent_image: own(p.parent_image),
                parent_command_line: own(p.parent_command_line),
                parent: None,
                children: Vec::new(),
                connections: Vec::new(),
                logon_id: p.logon_id,
                integrity_level: own(p.integrity_level),
                hashes: own(p.hashes),
                signer: p.signature.as_ref().map(ImageSigner::from_signature),
            },
        ));
    }

    /// Adds a network connection (only connections with a host and process are joinable).
    pub fn push_conn(&mut self, c: &ConnEvent<'_>) {
        self.input.coverage.network_events += 1;
        let p = c.process.unwrap_or_default();
        if p.image.is_some() || p.guid.is_some() || p.pid.is_some() {
            self.input.coverage.network_with_process += 1;
        }
        let Some(h) = c.host else { return };
        let host = self.input.host(h);
        let strings = &mut self.input.strings;
        // An address or GUID past the interner's 4 GiB is dropped like a connection with no
        // host: it could not be attached anyway.
        let (Some(src), Some(dst)) = (strings.intern(c.src), strings.intern(c.dst)) else {
            return;
        };
        let name = c.name.and_then(|n| strings.intern(n));
        let guid = p.guid.and_then(|g| strings.intern(g));
        self.input.conns.push(RawConn {
            host,
            ts: c.ts,
            src,
            dst,
            dst_port: c.dst_port,
            proto: c.proto,
            name,
            guid,
            pid: p.pid,
        });
    }

    /// Adds supporting evidence (its time is clock-corrected like task events unless it is
    /// Sysmon's `UtcTime`).
    pub fn push_evidence(&mut self, e: &EvidenceEvent<'_>) {
        // A process's own image load only gives its signer: counted apart.
        if e.kind == EvidenceKind::ProcessImageLoad {
            self.input.coverage.image_signatures += 1;
        } else {
            self.input.coverage.evidence += 1;
        }
        let host = self.input.host(e.host);
        self.input.evidence.push(RawEvidence {
            host,
            ts: e.ts,
            time_source: e.time_source,
            kind: e.kind,
            task_name: e.task_name(),
            image: own(e.process.image),
            guid: own(e.process.guid),
            pid: e.process.pid,
            target: own(e.target),
            detail: own(e.detail),
            value_name: own(e.value_name()),
            user: own(e.user),
            logon_id: e.logon_id,
            ip: own(e.ip),
            signer: e.signature.as_ref().map(ImageSigner::from_signature),
        });
    }

    /// Reconstructs the lineage.
    pub fn build(self) -> Lineage {
        stages::build(self.input, &self.config, self.baseline.as_ref())
    }
}

/// [`LineageBuilder::push_parallel`]'s intake: the reader's file `i` is input `first + i`.
struct LineageIntake {
    builder: LineageBuilder,
    first: usize,
}

impl Intake for LineageIntake {
    fn part(&self) -> Self {
        LineageIntake {
            builder: LineageBuilder::default(),
            first: self.first,
        }
    }

    fn push(&mut self, file: usize, p: &Prepared<'_>, position: Position) {
        self.builder.origin.input = u32::try_from(self.first + file).ok();
        self.builder.push_prepared(p, position);
    }

    fn absorb(&mut self, part: Self, shift: u64) -> bool {
        self.builder.absorb(part.builder, shift)
    }
}

#[cfg(all(test, feature = "synth"))]
mod tests {
    use super::*;
    use crate::read::ReadOptions;

    /// A process's connections share their texts: one allocation per distinct address or
    /// name, however many connections name it (the scenario's beacons make hundreds).
    #[test]
    fn connections_share_their_texts() {
        let s = crate::synth::an1113_scenario(7, 12.0);
        let mut b = LineageBuilder::new();
        let text = s.lines.join("\n");
        let mut r = ReadOptions::new()
            .from_reader(std::io::Cursor::new(text.into_bytes()))
            .unwrap_or_else(|e| panic!("{e}"));
        r.for_each_record(|rec| b.push_record(rec))
            .unwrap_or_else(|e| panic!("{e}"));
        let lin = b.build();
        let conns: Vec<_> = lin
            .hosts
            .iter()
            .flat_map(|h| h.processes.iter())
            .filter(|(_, p)| p.connections.len() >= 2)
            .map(|(_, p)| &p.connections)
            .collect();
        assert!(!conns.is_empty());
        let mut pairs = 0;
        for cs in conns {
            for w in cs.windows(2).filter(|w| w[0].dst == w[1].dst && w[0].src == w[1].src) {
                assert!(std::sync::Arc::ptr_eq(&w[0].dst, &w[1].dst), "{:?}", w[0].dst);
                assert!(std::sync::Arc::ptr_eq(&w[0].src, &w[1].src), "{:?}", w[0].src);
                pairs += 1;
            }
        }
        assert!(pairs > 100, "{pairs}");
    }

    /// Records parsed and decoded on other threads, from a file cut into chunks anywhere
    /// (duplicates of earlier records among them, and a second file), give the lineage that
    /// records pushed one by one in order give, at any number of workers: the same tasks,
    /// runs, processes, coverage and inputs (the records' origins included).
    #[test]
    fn records_read_in_parallel_give_the_lineage_of_records_pushed_one_by_one() -> Result<()> {
        let s = crate::synth::an1113_scenario(7, 12.0);
        let mut text = s.lines.join("\n");
        text.push('\n');
        text.push_str(&s.lines[..150].join("\n"));
        text.push('\n');
        let dir = std::env::temp_dir().join(format!("beaconstat-lineage-parallel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(None, e))?;
        let (a, b) = (dir.join("a.json"), dir.join("b.json"));
        std::fs::write(&a, &text).map_err(|e| crate::Error::io(None, e))?;
        // A definition that cannot be parsed, reported with its input and line.
        let bad = r#"{"EventID":4698,"Channel":"Security","Computer":"WS01","EventRecordID":990001,"TimeCreated":"2024-01-01T10:00:00Z","TaskName":"\\Bad","TaskContent":"<Task><Actions><Exec><Command>a</Command></Exec></Actions"}"#;
        std::fs::write(&b, format!("{}\n{bad}\n", s.lines[150..400].join("\n")))
            .map_err(|e| crate::Error::io(None, e))?;
        let mut one = LineageBuilder::new();
        for f in [&a, &b] {
            one.input(f.display().to_string());
            ReadOptions::new()
                .open(f)?
                .for_each_record(|rec| one.push_record(rec))?;
        }
        let one = one.build();
        assert!(one.coverage.duplicates >= 150, "{}", one.coverage.duplicates);
        assert!(one.hosts.iter().any(|h| !h.tasks.is_empty()));
        let skipped: Vec<_> = one
            .skipped_definitions
            .iter()
            .map(|d| (d.input.clone(), d.position.line))
            .collect();
        assert_eq!(skipped, [(Some(b.display().to_string()), 251)]);
        for workers in [1, 2, 3] {
            for part in [2_000, 50_000, 1 << 30] {
                let mut reader = ReadOptions::new().open_parallel([&a, &b], workers);
                reader.min_part_bytes(part);
                let mut two = LineageBuilder::new();
                two.push_parallel(&reader)?;
                assert_eq!(one, two.build(), "{workers} workers, parts of {part} bytes");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }
}
