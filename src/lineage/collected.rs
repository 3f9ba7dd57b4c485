//! The input lineage collects before it builds: owned copies of the task, process, connection
//! and evidence events pushed, per host, with the counts coverage is computed from.

use super::coverage::TelemetryCoverage;
use super::process::{ImageSigner, ProcessNode};
use super::taskxml::{TaskDefinition, TaskXmlError};
use crate::error::Position;
use crate::event::Proto;
use crate::series::{Interner, Span};
use crate::time::Timestamp;
use crate::winevent::{EvidenceKind, TaskEventKind, TimeSource};
// foldhash (hashbrown's default, randomly seeded): SipHash on the per-record duplicate key
// was a tenth of pushing a record.
use hashbrown::{HashMap, HashSet};

/// Everything pushed into a builder, hosts numbered in order of first appearance.
#[derive(Debug, Clone, Default)]
pub(crate) struct Collected {
    /// Lower-cased host name → host number.
    pub(crate) host_ix: HashMap<String, usize>,
    /// Host names as first logged.
    pub(crate) hosts: Vec<String>,
    /// Process creations with their host and the field their time came from, not yet
    /// merged or linked.
    pub(crate) procs: Vec<(usize, TimeSource, ProcessNode)>,
    pub(crate) tasks: Vec<RawTask>,
    pub(crate) evidence: Vec<RawEvidence>,
    pub(crate) conns: Vec<RawConn>,
    /// The text of the task events' strings (names, users, instance ids, ...): each distinct
    /// text once, where an owned copy per event was most of the builder's memory.
    pub(crate) strings: Interner<Span>,
    /// The inputs named ([`LineageBuilder::input`](super::LineageBuilder::input)), by number.
    pub(crate) inputs: Vec<String>,
    /// Per host: the clock samples its records gave.
    pub(crate) clocks: Vec<ClockSamples>,
    /// Counts so far (the gaps are added by the build).
    pub(crate) coverage: TelemetryCoverage,
    /// The record ids taken per (host, channel number), to drop duplicates.
    pub(crate) seen: SeenRecords,
    /// Channel names (lower-cased) by number, and the reverse (for `seen`).
    channels: Vec<String>,
    channel_ix: HashMap<String, u32>,
    /// The previous record's host and channel: records come in runs from one log.
    last_host: Option<usize>,
    last_channel: Option<u32>,
    /// The previous record's channel as written (`last_channel`'s text).
    last_channel_text: String,
    /// The first few channel texts as written, with their numbers (channels interleave).
    channel_texts: Vec<(String, u32)>,
    /// Reused for lower-casing a name on a lookup (no allocation per record).
    pub(crate) key: String,
}

impl Collected {
    /// The number of host `h` (case-insensitive), numbering it when new.
    pub(crate) fn host(&mut self, h: &str) -> usize {
        if let Some(i) = self.last_host
            && self.hosts.get(i).is_some_and(|n| n == h || n.eq_ignore_ascii_case(h))
        {
            return i;
        }
        // Records of a few hosts interleave: a name as first logged, compared byte for byte
        // (the same text is the same lower-cased key), before a lower-cased copy is hashed.
        if let Some(i) = self.hosts.iter().take(FEW).position(|n| n == h) {
            self.last_host = Some(i);
            return i;
        }
        let i = match self.host_ix.get(lowered(&mut self.key, h)) {
            Some(&i) => i,
            None => {
                let i = self.hosts.len();
                self.hosts.push(h.to_owned());
                self.clocks.push(ClockSamples::default());
                self.host_ix.insert(self.key.clone(), i);
                i
            }
        };
        self.last_host = Some(i);
        i
    }

    /// The number of channel `c` (case-insensitive), numbering it when new.
    pub(crate) fn channel(&mut self, c: &str) -> u32 {
        // The previous record's channel: by the text that record gave (a byte comparison),
        // then case-insensitively.
        if let Some(i) = self.last_channel
            && (self.last_channel_text == c || self.channels.get(i as usize).is_some_and(|n| n.eq_ignore_ascii_case(c)))
        {
            return i;
        }
        let i = match self.channel_texts.iter().find(|(t, _)| t == c) {
            Some(&(_, i)) => i,
            None => {
                let mut key = core::mem::take(&mut self.key);
                let i = self.channel_number(lowered(&mut key, c));
                self.key = key;
                if self.channel_texts.len() < FEW {
                    self.channel_texts.push((c.to_owned(), i));
                }
                i
            }
        };
        self.last_channel = Some(i);
        self.last_channel_text.clear();
        self.last_channel_text.push_str(c);
        i
    }

    /// True the first time (host, channel, record id) is seen.
    pub(crate) fn first_sight(&mut self, host: &str, channel: &str, record_id: u64) -> bool {
        let h = self.host(host);
        let c = self.channel(channel);
        self.seen.first_sight((h, c), record_id)
    }

    /// The number of the channel lower-cased `lower`, numbering it when new (no cache of the
    /// previous record's: [`channel`](Collected::channel) keeps that).
    fn channel_number(&mut self, lower: &str) -> u32 {
        if let Some(&i) = self.channel_ix.get(lower) {
            return i;
        }
        let i = self.channels.len() as u32;
        self.channels.push(lower.to_owned());
        self.channel_ix.insert(lower.to_owned(), i);
        i
    }

    /// Takes `part`, what the next records collected on their own (their lines numbered
    /// `shift` short), as if they had been pushed here: hosts renumbered, strings interned
    /// anew, lines shifted, counts added. False when one of its records was taken here
    /// already: only the records' own pushing tells which of them are duplicates then. Nothing
    /// is taken before that is known but the hosts and channels the records name, numbered
    /// as their pushing numbers them.
    pub(crate) fn absorb(&mut self, mut part: Collected, shift: u64) -> bool {
        // In the part's order, which is the records' order of first sight.
        let host_of: Vec<usize> = part.hosts.iter().map(|h| self.host(h)).collect();
        let channel_of: Vec<u32> = part.channels.iter().map(|c| self.channel_number(c)).collect();
        let log_of = |(h, c): (usize, u32)| {
            (
                host_of.get(h).copied().unwrap_or(h),
                channel_of.get(c as usize).copied().unwrap_or(c),
            )
        };
        if !self.seen.can_absorb(&part.seen, log_of) {
            return false;
        }
        let Some(string_of) = self.strings.absorb(&part.strings) else {
            return false;
        };
        self.seen.absorb(&part.seen, log_of);
        let host = |h: usize| host_of.get(h).copied().unwrap_or(h);
        let s = |id: u32| string_of.get(id as usize).copied().unwrap_or(id);
        for (h, c) in core::mem::take(&mut part.clocks).into_iter().enumerate() {
            if let Some(to) = self.clocks.get_mut(host(h)) {
                for (to, from) in to
                    .sysmon
                    .iter_mut()
                    .zip(c.sysmon)
                    .chain(to.collector.iter_mut().zip(c.collector))
                {
                    to.extend(from);
                }
            }
        }
        self.procs
            .extend(part.procs.into_iter().map(|(h, source, p)| (host(h), source, p)));
        self.tasks.extend(part.tasks.into_iter().map(|mut t| {
            t.host = host(t.host);
            t.origin.position.line += shift;
            for id in [
                &mut t.name,
                &mut t.user,
                &mut t.instance_id,
                &mut t.path,
                &mut t.action_name,
                &mut t.result_code,
            ]
            .into_iter()
            .flatten()
            {
                *id = s(*id);
            }
            t
        }));
        self.evidence.extend(part.evidence.into_iter().map(|mut e| {
            e.host = host(e.host);
            e
        }));
        self.conns.extend(part.conns.into_iter().map(|mut c| {
            c.host = host(c.host);
            (c.src, c.dst) = (s(c.src), s(c.dst));
            c.name = c.name.map(s);
            c.guid = c.guid.map(s);
            c
        }));
        self.coverage.add(part.coverage);
        true
    }
}

/// The record ids taken, per log (host and channel number). A log's records mostly come in
/// increasing id order, so an id past the largest taken is new without a lookup and is kept
/// in a sorted list; only an id at or below it is looked for (by binary search in that list,
/// and in a set of the ids that came out of order). A set of every (host, channel, id) cost a
/// random memory access per record once it outgrew the cache.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeenRecords {
    /// (host, channel) → its place in `logs`.
    index: HashMap<(usize, u32), usize>,
    /// The previous record's log and its place: records come in runs from one log.
    last: Option<((usize, u32), usize)>,
    logs: Vec<LogIds>,
}

/// One log's ids taken: those that came in increasing order, and the others.
#[derive(Debug, Clone, Default)]
struct LogIds {
    in_order: Vec<u64>,
    others: HashSet<u64>,
}

impl SeenRecords {
    /// True the first time `id` is seen in `log`.
    pub(crate) fn first_sight(&mut self, log: (usize, u32), id: u64) -> bool {
        let k = match self.last {
            Some((l, k)) if l == log => k,
            _ => {
                let next = self.logs.len();
                let k = *self.index.entry(log).or_insert(next);
                if k == next {
                    self.logs.push(LogIds::default());
                }
                self.last = Some((log, k));
                k
            }
        };
        let Some(ids) = self.logs.get_mut(k) else {
            return true; // every place in `index` is in `logs`
        };
        match ids.in_order.last() {
            Some(&max) if id <= max => ids.in_order.binary_search(&id).is_err() && ids.others.insert(id),
            _ => {
                ids.in_order.push(id);
                true
            }
        }
    }

    /// Whether none of the ids `part` took is taken here, its logs being `log_of` of its own.
    pub(crate) fn can_absorb(&self, part: &SeenRecords, log_of: impl Fn((usize, u32)) -> (usize, u32)) -> bool {
        part.index.iter().all(|(&log, &k)| {
            let (Some(here), Some(there)) = (
                self.index.get(&log_of(log)).and_then(|&i| self.logs.get(i)),
                part.logs.get(k),
            ) else {
                return true;
            };
            let max = here.in_order.last().copied();
            there
                .in_order
                .iter()
                .chain(&there.others)
                .all(|&id| max.is_none_or(|m| id > m) || !here.holds(id))
        })
    }

    /// Takes the ids `part` took (none of them taken here: [`can_absorb`](Self::can_absorb)).
    pub(crate) fn absorb(&mut self, part: &SeenRecords, log_of: impl Fn((usize, u32)) -> (usize, u32)) {
        for (&log, &k) in &part.index {
            let Some(ids) = part.logs.get(k) else { continue };
            let to = log_of(log);
            // The usual case, a log's next ids all past those taken here: appended at once.
            if let Some(here) = self.index.get(&to).and_then(|&i| self.logs.get_mut(i))
                && ids.others.is_empty()
                && here.in_order.last() < ids.in_order.first()
            {
                here.in_order.extend_from_slice(&ids.in_order);
                continue;
            }
            for &id in ids.in_order.iter().chain(&ids.others) {
                self.first_sight(to, id);
            }
        }
    }
}

impl LogIds {
    fn holds(&self, id: u64) -> bool {
        self.in_order.binary_search(&id).is_ok() || self.others.contains(&id)
    }
}

/// How many hosts and channel texts are compared byte for byte before a hashed lookup.
const FEW: usize = 8;

/// `s` lower-cased into `buf` (reused), for a lookup without an allocation.
pub(crate) fn lowered<'b>(buf: &'b mut String, s: &str) -> &'b str {
    buf.clear();
    buf.push_str(s);
    buf.make_ascii_lowercase();
    buf
}

/// One host's clock samples, µs, per logged time field (`[SystemTime, LocalTime]`): Sysmon
/// `UtcTime` minus the record's logged time, and a collector's time minus the logged time.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClockSamples {
    pub(crate) sysmon: [Vec<i64>; 2],
    pub(crate) collector: [Vec<i64>; 2],
}

impl ClockSamples {
    /// The slot of a logged time field: those two are the ones a correction applies to.
    pub(crate) fn slot(source: TimeSource) -> Option<usize> {
        match source {
            TimeSource::SystemTime => Some(0),
            TimeSource::LocalTime => Some(1),
            _ => None,
        }
    }
}

/// Where a record came from, for a skip that names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecordOrigin {
    /// The input being read when it was pushed ([`LineageBuilder::input`](super::LineageBuilder::input)):
    /// its number in [`Collected::inputs`].
    pub(crate) input: Option<u32>,
    /// Its line and byte in that input (line 0 for EVTX).
    pub(crate) position: Position,
    pub(crate) record_id: Option<u64>,
}

/// A task event, compact: its strings interned in [`Collected::strings`], its definition
/// (rare, large) boxed.
#[derive(Debug, Clone)]
pub(crate) struct RawTask {
    pub(crate) host: usize,
    pub(crate) ts: Timestamp,
    pub(crate) time_source: TimeSource,
    pub(crate) origin: RecordOrigin,
    pub(crate) kind: TaskEventKind,
    pub(crate) event_id: u32,
    /// Normalised ([`normalize_task_name`](super::cmdline::normalize_task_name)).
    pub(crate) name: Option<u32>,
    pub(crate) def: Option<Box<Result<TaskDefinition, TaskXmlError>>>,
    pub(crate) user: Option<u32>,
    pub(crate) logon_id: Option<u64>,
    pub(crate) client_pid: Option<u32>,
    pub(crate) rpc_locality: Option<u32>,
    pub(crate) instance_id: Option<u32>,
    pub(crate) engine_pid: Option<u32>,
    pub(crate) path: Option<u32>,
    pub(crate) action_name: Option<u32>,
    pub(crate) result_code: Option<u32>,
}

/// A piece of supporting evidence, owned.
#[derive(Debug, Clone)]
pub(crate) struct RawEvidence {
    pub(crate) host: usize,
    pub(crate) ts: Timestamp,
    pub(crate) time_source: TimeSource,
    pub(crate) kind: EvidenceKind,
    pub(crate) task_name: Option<String>,
    pub(crate) image: Option<String>,
    pub(crate) guid: Option<String>,
    pub(crate) pid: Option<u32>,
    pub(crate) target: Option<String>,
    pub(crate) detail: Option<String>,
    pub(crate) value_name: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) logon_id: Option<u64>,
    pub(crate) ip: Option<String>,
    /// Sysmon 7: the loaded image's signature.
    pub(crate) signer: Option<ImageSigner>,
}

/// A network connection with the process identity it names, compact: its strings interned
/// in [`Collected::strings`] (a process's connections are made owned when attached to it).
#[derive(Debug, Clone)]
pub(crate) struct RawConn {
    pub(crate) host: usize,
    pub(crate) ts: Timestamp,
    pub(crate) src: u32,
    pub(crate) dst: u32,
    pub(crate) dst_port: Option<u16>,
    pub(crate) proto: Proto,
    pub(crate) name: Option<u32>,
    pub(crate) guid: Option<u32>,
    pub(crate) pid: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::SeenRecords;
    use hashbrown::HashSet;
    use proptest::prelude::*;

    #[test]
    fn ids_in_order_out_of_order_and_repeated() {
        let mut s = SeenRecords::default();
        let log = (0, 0);
        assert!(s.first_sight(log, 5));
        assert!(s.first_sight(log, 7));
        assert!(!s.first_sight(log, 5), "a repeat of an id taken in order");
        assert!(s.first_sight(log, 6), "new, below the largest");
        assert!(!s.first_sight(log, 6), "a repeat of an id taken out of order");
        assert!(s.first_sight((1, 0), 5), "the same id in another host's log");
        assert!(s.first_sight((0, 1), 5), "the same id in another channel");
        assert!(!s.first_sight(log, 7));
        assert!(s.first_sight(log, 0));
        assert!(s.first_sight(log, u64::MAX));
        assert!(!s.first_sight(log, u64::MAX));
    }

    proptest! {
        /// Absorbing the ids of the records after a cut, taken apart, refuses exactly when one
        /// of them was taken before the cut; else the ids taken are those of taking every
        /// record in turn (the same answers to any record after).
        #[test]
        fn absorbing_agrees_with_taking_in_turn(
            records in proptest::collection::vec((0usize..3, 0u32..2, 0u64..60), 0..200),
            cut in 0usize..200,
            after in proptest::collection::vec((0usize..3, 0u32..2, 0u64..60), 0..40),
        ) {
            let cut = cut.min(records.len());
            let (mut left, mut right) = (SeenRecords::default(), SeenRecords::default());
            for &(h, c, id) in &records[..cut] {
                left.first_sight((h, c), id);
            }
            let mut right_set = HashSet::new();
            for &(h, c, id) in &records[cut..] {
                right.first_sight((h, c), id);
                right_set.insert((h, c, id));
            }
            let left_set: HashSet<_> = records[..cut].iter().copied().collect();
            // Logs renumbered on the way (as a part's hosts are): host h of the part is host 2 - h.
            let flip = |(h, c): (usize, u32)| (2 - h, c);
            let clash = right_set.iter().any(|&(h, c, id)| left_set.contains(&(2 - h, c, id)));
            prop_assert_eq!(left.can_absorb(&right, flip), !clash);
            if clash {
                return Ok(());
            }
            left.absorb(&right, flip);
            // `whole` with the part's records renumbered likewise.
            let mut whole = SeenRecords::default();
            for &(h, c, id) in &records[..cut] {
                whole.first_sight((h, c), id);
            }
            for &(h, c, id) in &records[cut..] {
                whole.first_sight(flip((h, c)), id);
            }
            for (h, c, id) in after {
                prop_assert_eq!(left.first_sight((h, c), id), whole.first_sight((h, c), id));
            }
        }

        /// The same answers as a set of every (log, id), whatever the order.
        #[test]
        fn agrees_with_a_set(records in proptest::collection::vec((0usize..3, 0u32..2, 0u64..40), 0..200)) {
            let mut s = SeenRecords::default();
            let mut all = HashSet::new();
            for (h, c, id) in records {
                prop_assert_eq!(s.first_sight((h, c), id), all.insert((h, c, id)));
            }
        }
    }
}
